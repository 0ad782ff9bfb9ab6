#include "mlspeed/train/grad_scaler.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "mlspeed/train/adamw.h"

namespace mlspeed::train {
namespace {

const c10::Device kCpu(c10::DeviceType::CPU);

struct Fixture {
  at::Tensor w = at::ones({2, 3}).requires_grad_();
  at::Tensor b = at::ones({3}).requires_grad_();
  std::vector<at::Tensor> params{w, b};
  AdamW optimizer{{ParamGroup{params, 0.1}}, AdamWOptions{}};
  GradScaler scaler;
  explicit Fixture(GradScalerOptions options = {}) : scaler(kCpu, options) {}

  // Gradients as backward through scale(loss) leaves them: `scale` times the true ones.
  void set_scaled_grads(float w_grad, float b_grad) {
    const double s = scaler.current_scale();
    w.mutable_grad() = at::full({2, 3}, w_grad * s);
    b.mutable_grad() = at::full({3}, b_grad * s);
  }
  bool params_unchanged() const {
    return w.detach().equal(at::ones({2, 3})) && b.detach().equal(at::ones({3}));
  }
};

TEST(GradScaler, StartsAt65536AndScalesTheLoss) {
  GradScaler scaler(kCpu);
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  EXPECT_EQ(scaler.scale(at::tensor(0.5f)).item<float>(), 32768.0f);
}

TEST(GradScaler, UnscaleDividesGradientsBackAndFindsNoInf) {
  Fixture f;
  f.set_scaled_grads(0.25f, -3.0f);
  const at::Tensor found_inf = f.scaler.unscale_(f.params);
  EXPECT_EQ(found_inf.item<float>(), 0.0f);
  EXPECT_TRUE(f.w.grad().equal(at::full({2, 3}, 0.25f)));
  EXPECT_TRUE(f.b.grad().equal(at::full({3}, -3.0f)));
}

TEST(GradScaler, FiniteGradientsStepAndKeepTheScale) {
  Fixture f;
  f.set_scaled_grads(0.25f, -3.0f);
  f.scaler.step(f.optimizer);  // unscales itself when unscale_ was not called
  f.scaler.update();
  EXPECT_FALSE(f.params_unchanged());
  EXPECT_EQ(f.scaler.current_scale(), 65536.0);
}

TEST(GradScaler, InfGradientSkipsTheStepAndHalvesTheScale) {
  Fixture f;
  f.set_scaled_grads(0.25f, -3.0f);
  f.b.mutable_grad()[1] = std::numeric_limits<float>::infinity();
  f.scaler.unscale_(f.params);
  EXPECT_EQ(f.scaler.found_inf().item<float>(), 1.0f);
  f.scaler.step(f.optimizer);
  f.scaler.update();
  EXPECT_TRUE(f.params_unchanged());
  EXPECT_EQ(f.scaler.current_scale(), 32768.0);
}

TEST(GradScaler, NaNGradientSkipsTheStepToo) {
  Fixture f;
  f.set_scaled_grads(std::numeric_limits<float>::quiet_NaN(), 1.0f);
  f.scaler.step(f.optimizer);
  f.scaler.update();
  EXPECT_TRUE(f.params_unchanged());
  EXPECT_EQ(f.scaler.current_scale(), 32768.0);
}

TEST(GradScaler, GrowsAfterGrowthIntervalCleanStepsInARow) {
  GradScalerOptions options;
  options.growth_interval = 3;
  Fixture f(options);
  const auto clean_step = [&] {
    f.set_scaled_grads(0.1f, 0.1f);
    f.scaler.step(f.optimizer);
    f.scaler.update();
  };
  clean_step();
  clean_step();
  EXPECT_EQ(f.scaler.current_scale(), 65536.0);
  clean_step();
  EXPECT_EQ(f.scaler.current_scale(), 131072.0);
  // An overflow resets the count: two more clean steps do not grow it again.
  f.set_scaled_grads(std::numeric_limits<float>::infinity(), 0.1f);
  f.scaler.step(f.optimizer);
  f.scaler.update();
  EXPECT_EQ(f.scaler.current_scale(), 65536.0);
  clean_step();
  clean_step();
  EXPECT_EQ(f.scaler.current_scale(), 65536.0);
  clean_step();
  EXPECT_EQ(f.scaler.current_scale(), 131072.0);
}

TEST(GradScaler, BackwardThroughScaledLossGivesTheTrueGradientsAfterUnscale) {
  GradScaler scaler(kCpu);
  const at::Tensor x = at::randn({4, 3});
  at::Tensor w = at::randn({3}).requires_grad_();
  (x.matmul(w).pow(2).mean()).backward();
  const at::Tensor expected = w.grad().clone();
  w.mutable_grad() = at::Tensor();
  scaler.scale(x.matmul(w).pow(2).mean()).backward();
  EXPECT_FALSE(at::allclose(w.grad(), expected));
  scaler.unscale_({w});
  EXPECT_TRUE(at::allclose(w.grad(), expected, 1e-6, 1e-7));
}

}  // namespace
}  // namespace mlspeed::train
