#include "mlspeed/train/adamw.h"

#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/optim/adamw.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/kernel_fault.h"
#include "mlspeed/train/adamw_cpu.h"

namespace mlspeed::train {
namespace {

torch::nn::Sequential small_model() {
  return torch::nn::Sequential(torch::nn::Linear(6, 8),
                               torch::nn::LayerNorm(torch::nn::LayerNormOptions({8})), torch::nn::GELU(),
                               torch::nn::Linear(8, 3));
}

// Two copies of one model; each gets the same data for `steps` steps, one optimised by
// torch::optim::AdamW, the other by ours.
struct Pair {
  torch::nn::Sequential theirs = small_model();
  torch::nn::Sequential ours = small_model();
  Pair() {
    torch::NoGradGuard no_grad;
    const auto from = theirs->parameters();
    auto to = ours->parameters();
    for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
};

void backward_on(torch::nn::Sequential& model, int step) {
  torch::manual_seed(100 + step);
  const at::Tensor x = at::randn({5, 6}), y = at::randn({5, 3});
  ((model->forward(x) - y).pow(2).mean() * (step + 1)).backward();  // varying gradient sizes
}

double max_difference(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  return worst;
}

void expect_matches_torch(double weight_decay, bool groups) {
  Pair pair;
  const auto initial = [&] {
    std::vector<at::Tensor> v;
    for (const auto& p : pair.ours->parameters()) v.push_back(p.detach().clone());
    return v;
  }();
  const auto theirs_options = [](double wd) {
    return torch::optim::AdamWOptions(3e-2).betas({0.9, 0.99}).eps(1e-8).weight_decay(wd);
  };
  std::vector<torch::optim::OptimizerParamGroup> their_groups;
  std::vector<ParamGroup> our_groups;
  if (groups) {
    our_groups = weight_decay_groups(pair.ours->parameters(), weight_decay);
    ASSERT_EQ(our_groups.size(), 2u);
    std::vector<at::Tensor> decay, no_decay;
    for (const auto& p : pair.theirs->parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
    their_groups.emplace_back(decay,
                              std::make_unique<torch::optim::AdamWOptions>(theirs_options(weight_decay)));
    their_groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(theirs_options(0.0)));
  } else {
    our_groups = {ParamGroup{pair.ours->parameters(), weight_decay}};
    their_groups.emplace_back(pair.theirs->parameters(),
                              std::make_unique<torch::optim::AdamWOptions>(theirs_options(weight_decay)));
  }
  torch::optim::AdamW theirs(std::move(their_groups), theirs_options(weight_decay));
  AdamW ours(std::move(our_groups), AdamWOptions{3e-2, 0.9, 0.99, 1e-8});
  // The fused kernel where this LibTorch has it for the CPU (>= 2.4), else the foreach path.
  EXPECT_EQ(ours.fused(), compat::fused_adamw_available(c10::DeviceType::CPU));

  for (int step = 0; step < 8; ++step) {
    theirs.zero_grad();
    ours.zero_grad();
    backward_on(pair.theirs, step);
    backward_on(pair.ours, step);
    theirs.step();
    ours.step();
  }
  EXPECT_GT(max_difference(pair.ours->parameters(), initial), 0.05);  // it did train
  EXPECT_LT(max_difference(pair.ours->parameters(), pair.theirs->parameters()),
            1e-5);  // an lr-sized error is 1e-2
}

TEST(AdamW, MatchesTorchWithoutWeightDecay) { expect_matches_torch(0.0, /*groups=*/false); }
TEST(AdamW, MatchesTorchWithWeightDecayOnEverything) { expect_matches_torch(0.1, /*groups=*/false); }
TEST(AdamW, MatchesTorchWithNanoGptsWeightDecayGroups) { expect_matches_torch(0.1, /*groups=*/true); }

TEST(AdamW, GroupsDecayMatricesOnly) {
  const std::vector<at::Tensor> params = {at::zeros({3, 4}).requires_grad_(), at::zeros({4}).requires_grad_(),
                                          at::zeros({2, 2, 2}).requires_grad_(), at::zeros({1})};
  const auto groups = weight_decay_groups(params, 0.1);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].weight_decay, 0.1);
  EXPECT_EQ(groups[0].params.size(), 2u);
  EXPECT_TRUE(groups[0].params[0].is_same(params[0]));
  EXPECT_TRUE(groups[0].params[1].is_same(params[2]));
  EXPECT_EQ(groups[1].weight_decay, 0.0);
  ASSERT_EQ(groups[1].params.size(), 1u);  // the tensor without requires_grad is left out
  EXPECT_TRUE(groups[1].params[0].is_same(params[1]));
}

TEST(AdamW, ParameterWithoutGradientIsNotStepped) {
  at::Tensor a = at::ones({2, 2}).requires_grad_(), b = at::ones({2, 2}).requires_grad_();
  AdamW opt({ParamGroup{{a, b}, 0.1}}, AdamWOptions{});
  a.mutable_grad() = at::ones({2, 2});
  opt.step();
  EXPECT_FALSE(a.detach().equal(at::ones({2, 2})));
  EXPECT_TRUE(b.detach().equal(at::ones({2, 2})));  // no decay either
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(AdamW, NonZeroFoundInfSkipsTheStep) {
  at::Tensor a = at::ones({3}).requires_grad_();
  AdamW opt({ParamGroup{{a}, 0.1}}, AdamWOptions{});
  a.mutable_grad() = at::full({3}, 2.0);
  opt.step(at::ones({}));
  EXPECT_TRUE(a.detach().equal(at::ones({3})));
  opt.step(at::zeros({}));
  EXPECT_FALSE(a.detach().equal(at::ones({3})));
}

// mlspeed's one-pass CPU update (taken where LibTorch has no fused AdamW for the CPU) and
// LibTorch's foreach kernels (--kernels libtorch) train the same model to the same weights.
TEST(AdamW, TheCpuPassAndLibTorchsForeachKernelsAgree) {
  Pair pair;  // `theirs` here is ours on LibTorch's kernels
  AdamW on_libtorch(weight_decay_groups(pair.theirs->parameters(), 0.1), AdamWOptions{3e-2, 0.9, 0.99, 1e-8});
  AdamW on_mlspeed(weight_decay_groups(pair.ours->parameters(), 0.1), AdamWOptions{3e-2, 0.9, 0.99, 1e-8});
  for (int step = 0; step < 8; ++step) {
    on_libtorch.zero_grad();
    on_mlspeed.zero_grad();
    backward_on(pair.theirs, step);
    backward_on(pair.ours, step);
    {
      const KernelSetScope libtorch(KernelSet::libtorch);
      on_libtorch.step();
    }
    on_mlspeed.step();
  }
  EXPECT_LT(max_difference(pair.ours->parameters(), pair.theirs->parameters()), 1e-6);
  const std::string isa = adamw_cpu_pass_isa();
  EXPECT_TRUE(isa == "avx512" || isa == "avx2" || isa == "portable") << isa;
}

// Every length's tail (the vector passes take 8 or 16 floats at a time) gets the update.
TEST(AdamW, TheCpuPassUpdatesEveryElementOfOddLengths) {
  for (int64_t n : {1, 7, 17, 33, 100003}) {
    at::Tensor p = at::ones({n}), m = at::zeros({n}), v = at::zeros({n});
    const at::Tensor g = at::full({n}, 0.5);
    adamw_cpu_pass(p.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(), v.data_ptr<float>(), n,
                   AdamWCpuStep{1.0f, 0.9f, 0.999f, 0.1f, 1.0f, 1e-8f});
    // m = 0.05, v = 0.00025, p = 1 - 0.1 * 0.05 / (sqrt(0.00025) + 1e-8), within float32's
    // rounding of 1 - 0.999 (1.3e-5 of it)
    const double want = 1.0 - 0.1 * 0.05 / (std::sqrt(0.00025) + 1e-8);
    EXPECT_LT((p - want).abs().max().item<double>(), 1e-5) << n;
    EXPECT_GT((p - 1.0).abs().min().item<double>(), 0.3) << n;  // every element moved
    EXPECT_LT((m - 0.05).abs().max().item<double>(), 1e-7) << n;
  }
}

// The verifier's optimizer-update-dropped fault reaches the CPU pass: the weights stay put.
TEST(AdamW, TheOptimizerFaultStopsTheCpuPassUpdate) {
  at::Tensor a = at::ones({40}).requires_grad_();
  AdamW opt({ParamGroup{{a}, 0.0}}, AdamWOptions{});
  if (opt.fused()) GTEST_SKIP() << "this LibTorch has a fused CPU AdamW: the dispatcher fault covers it";
  a.mutable_grad() = at::full({40}, 2.0);
  {
    const fused::KernelFaultScope fault(fused::KernelFault::optimizer_update_dropped);
    opt.step();
  }
  EXPECT_TRUE(a.detach().equal(at::ones({40})));
  opt.step();
  EXPECT_FALSE(a.detach().equal(at::ones({40})));
}

// Channels-last weights (ResNet's) and a 1x1 convolution's weight whose gradient comes back with
// the other strides (the same memory) take the pass; a gradient laid out otherwise takes LibTorch's
// foreach kernels. Seen through the fault, which only the pass reads here.
TEST(AdamW, TheCpuPassTakesChannelsLastWeightsAndFallsBackForOtherLayouts) {
  const auto last = at::MemoryFormat::ChannelsLast;
  const auto moved_under_fault = [](const at::Tensor& weight, const at::Tensor& grad) {
    at::Tensor p = weight.clone().requires_grad_();
    AdamW opt({ParamGroup{{p}, 0.0}}, AdamWOptions{});
    p.mutable_grad() = grad;
    const fused::KernelFaultScope fault(fused::KernelFault::optimizer_update_dropped);
    opt.step();
    return !p.detach().equal(weight);
  };
  const at::Tensor conv = at::ones({8, 4, 3, 3}).contiguous(last), one_by_one = at::ones({8, 4, 1, 1});
  if (AdamW({ParamGroup{{conv.clone().requires_grad_()}, 0.0}}, AdamWOptions{}).fused())
    GTEST_SKIP() << "this LibTorch has a fused CPU AdamW";
  EXPECT_FALSE(moved_under_fault(conv, at::full_like(conv, 0.5)));  // channels-last throughout: the pass
  EXPECT_FALSE(moved_under_fault(one_by_one, at::full({8, 4, 1, 1}, 0.5).contiguous(last)));
  EXPECT_TRUE(moved_under_fault(conv, at::full({8, 4, 3, 3}, 0.5)));  // a contiguous gradient: foreach
}

TEST(ClipGradNorm, ReturnsTheTotalNormAndScalesToMaxNorm) {
  at::Tensor a = at::zeros({2}).requires_grad_(), b = at::zeros({1, 1}).requires_grad_();
  at::Tensor c = at::zeros({4}).requires_grad_();  // no gradient: ignored
  a.mutable_grad() = at::tensor({3.0f, 4.0f});
  b.mutable_grad() = at::tensor({12.0f}).view({1, 1});
  const at::Tensor norm = clip_grad_norm_({a, b, c}, 6.5);  // sqrt(9 + 16 + 144) = 13
  EXPECT_NEAR(norm.item<double>(), 13.0, 1e-6);
  const double coefficient = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 * coefficient, 1e-6);
  EXPECT_NEAR(a.grad()[1].item<double>(), 4.0 * coefficient, 1e-6);
  EXPECT_NEAR(b.grad()[0][0].item<double>(), 12.0 * coefficient, 1e-6);
  EXPECT_FALSE(c.grad().defined());
}

TEST(ClipGradNorm, LeavesSmallGradientsAlone) {
  at::Tensor a = at::zeros({2}).requires_grad_();
  a.mutable_grad() = at::tensor({0.3f, 0.4f});
  const at::Tensor norm = clip_grad_norm_({a}, 1.0);
  EXPECT_NEAR(norm.item<double>(), 0.5, 1e-6);
  EXPECT_TRUE(a.grad().equal(at::tensor({0.3f, 0.4f})));
}

}  // namespace
}  // namespace mlspeed::train
