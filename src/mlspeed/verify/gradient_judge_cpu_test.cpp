// The gradients row's judgement on made-up gradients: the element test, the second look at a
// float32 gradient a flipped ReLU decision moved (taken only when needed, once), and what it
// never excuses: an error spread over the whole gradient, NaN, a missing gradient, or another
// precision.
#include "mlspeed/verify/gradient_judge.h"

#include <gtest/gtest.h>

#include <limits>

namespace mlspeed::verify {
namespace {

Gradients cpu_gradients() {
  return {{"conv.weight", at::linspace(-1, 1, 64, at::kFloat)}, {"bn.bias", at::linspace(0.5, 2, 8, at::kFloat)}};
}

// `cpu` with the conv's element k moved by `step`: one flipped decision's share of a sum.
Gradients stepped(const Gradients& cpu, int64_t k, double step) {
  Gradients out;
  for (const auto& [name, g] : cpu) out[name] = g.clone();
  out["conv.weight"][k] += step;
  return out;
}

// Draws whose largest relative change is `s` (in the conv's gradient).
std::vector<Gradients> draws_moving_by(const Gradients& cpu, double s) {
  Gradients draw;
  for (const auto& [name, g] : cpu) draw[name] = g.clone();
  draw["conv.weight"] = cpu.at("conv.weight") * (1 + s);  // relative rms change s
  return {draw, cpu};
}

struct CountingDraws {
  std::vector<Gradients> draws;
  int calls = 0;
  std::function<std::vector<Gradients>()> fn() {
    return [this] {
      ++calls;
      return draws;
    };
  }
};

TEST(GradientJudge, EqualGradientsPassWithoutTheSecondLook) {
  const Gradients cpu = cpu_gradients();
  CountingDraws draws{draws_moving_by(cpu, 0.1)};
  const GradientVerdict v = judge_gradients(cpu, cpu, Precision::fp32, nullptr, draws.fn());
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(draws.calls, 0) << "the draws cost two passes: only when a gradient fails element by element";
  EXPECT_FALSE(v.sensitivity.has_value());
  EXPECT_NE(v.message().find("every gradient matches (2 parameters; the closest to failing:"), std::string::npos)
      << v.message();
}

TEST(GradientJudge, ASparseStepWithinTheModelsSensitivityPassesByTheSecondLook) {
  const Gradients cpu = cpu_gradients();
  // One element off by 0.3: far past the element tolerance (~0.003), a relative rms error of
  // 0.3 / sqrt(64) / rms(conv) = 0.065, within 3 x S = 0.3.
  const Gradients device = stepped(cpu, 10, 0.3);
  CountingDraws draws{draws_moving_by(cpu, 0.1)};
  const GradientVerdict v = judge_gradients(device, cpu, Precision::fp32, nullptr, draws.fn());
  EXPECT_TRUE(v.passed()) << v.message();
  EXPECT_EQ(draws.calls, 1);
  ASSERT_TRUE(v.sensitivity.has_value());
  EXPECT_NEAR(*v.sensitivity, 0.1, 1e-6);
  EXPECT_EQ(v.within_sensitivity, 1);
  EXPECT_EQ(v.worst_name, "conv.weight");
  EXPECT_EQ(v.worst->mismatched, 1) << "the element figures stay what they are";
  EXPECT_NE(v.message().find("1 of them by the second look"), std::string::npos) << v.message();
  EXPECT_NE(v.worst->tolerance.description.find("passed by the model's sensitivity"), std::string::npos);
}

TEST(GradientJudge, TheSameStepFailsWhereTheModelIsNotThatSensitive) {
  const Gradients cpu = cpu_gradients();
  CountingDraws draws{draws_moving_by(cpu, 0.001)};
  const GradientVerdict v = judge_gradients(stepped(cpu, 10, 0.3), cpu, Precision::fp32, nullptr, draws.fn());
  EXPECT_FALSE(v.passed());
  EXPECT_EQ(v.failing, 1);
  EXPECT_NE(v.message().find("gradient of conv.weight"), std::string::npos) << v.message();
  EXPECT_NE(v.message().find("beyond the model's sensitivity too"), std::string::npos) << v.message();
}

TEST(GradientJudge, AnErrorAcrossTheWholeGradientIsNotExcused) {
  const Gradients cpu = cpu_gradients();
  Gradients device = stepped(cpu, 0, 0);
  device["bn.bias"] = cpu.at("bn.bias") * 1.5;  // a broken backward: every element half off
  CountingDraws draws{draws_moving_by(cpu, 0.1)};
  const GradientVerdict v = judge_gradients(device, cpu, Precision::fp32, nullptr, draws.fn());
  EXPECT_FALSE(v.passed());
  EXPECT_EQ(v.worst_name, "bn.bias");
  EXPECT_EQ(v.within_sensitivity, 0);
}

TEST(GradientJudge, FlagsAndOtherPrecisionsNeverTakeTheSecondLook) {
  const Gradients cpu = cpu_gradients();
  CountingDraws draws{draws_moving_by(cpu, 10)};  // a sensitivity that would excuse anything
  Gradients nan = stepped(cpu, 0, 0);  // copies
  nan["bn.bias"][3] = std::numeric_limits<float>::quiet_NaN();
  const GradientVerdict with_nan = judge_gradients(nan, cpu, Precision::fp32, nullptr, draws.fn());
  EXPECT_FALSE(with_nan.passed());
  EXPECT_NE(with_nan.message().find("NaN"), std::string::npos) << with_nan.message();

  Gradients missing = cpu;
  missing.erase("bn.bias");
  const GradientVerdict without = judge_gradients(missing, cpu, Precision::fp32, nullptr, draws.fn());
  EXPECT_FALSE(without.passed());
  EXPECT_NE(without.message().find("no gradient reached bn.bias"), std::string::npos) << without.message();

  // bf16 has its own (wide) tolerance and widening (the pass perturbed at its rounding), and no
  // second look: a step past it fails, though these draws would excuse it.
  const GradientVerdict bf16 =
      judge_gradients(stepped(cpu, 10, 30.0), cpu, Precision::bf16, &cpu, draws.fn());
  EXPECT_FALSE(bf16.passed());
  EXPECT_EQ(draws.calls, 0);
}

}  // namespace
}  // namespace mlspeed::verify
