// Model-level verification on a healthy CPU (no false alarms, fp32 and bf16), its validation,
// and each detector fed what a broken device produces.
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/device/device.h"
#include "mlspeed/verify/model_checks.h"
#include "mlspeed/verify/quant_model_check.h"
#include "mlspeed/verify/model_detectors.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::verify {
namespace {

Target discovered_cpu_target() {
  Target t;
  t.facts = discover_devices(/*measure_cpu_peak=*/false).front();
  t.device = c10::Device(c10::kCPU);
  return t;
}

std::string describe_failures(const std::vector<CheckResult>& rows) {
  std::string text;
  for (const CheckResult& r : rows)
    if (r.outcome == Outcome::fail || r.outcome == Outcome::error) text += describe(r) + "\n";
  return text;
}

bool healthy(const std::vector<CheckResult>& rows) {
  for (const CheckResult& r : rows)
    if (r.outcome == Outcome::fail || r.outcome == Outcome::error) return false;
  return !rows.empty();
}

TEST(ModelChecks, AHealthyCpuPassesEveryPassOfTheWholeCatalogueAtTinySize) {
  std::vector<CheckResult> streamed;
  const std::vector<CheckResult> rows =
      run_model_checks(discovered_cpu_target(), ModelCheckOptions{}, [&](const CheckResult& r) { streamed.push_back(r); });
  EXPECT_TRUE(healthy(rows)) << describe_failures(rows);
  EXPECT_EQ(streamed.size(), rows.size());
  std::map<std::string, std::set<std::string>> passes;
  for (const CheckResult& r : rows) {
    EXPECT_EQ(r.level, Level::model);
    // The quantised-Llama rows (quant_model_check.h) carry their weight format instead of a size.
    const bool quantised = r.check == kQuantModelWorkload && (r.pass == "forward" || r.pass == "decode") &&
                           parse_model_format(r.variant).has_value();
    if (!quantised) EXPECT_EQ(r.variant, "tiny");
    EXPECT_EQ(r.dtype, "fp32");
    EXPECT_EQ(r.outcome, Outcome::pass) << describe(r);
    EXPECT_EQ(r.bug_class, r.pass == "gradients" || r.pass == "training" ? BugClass::training : BugClass::model);
    passes[r.check].insert(r.pass);
  }
  for (const Workload* w : workload_catalogue()) {
    const auto& p = passes[w->name()];
    EXPECT_TRUE(p.count("forward") && p.count("gradients")) << w->name();
    EXPECT_EQ(p.count("training"), w->job() == Job::train ? 1u : 0u) << w->name();
    const bool generates = w->name() == "gpt2-generate" || w->name() == "llama2-7b-generate";
    EXPECT_EQ(p.count("generation"), generates ? 1u : 0u) << w->name();
    // The quantised Llama's decode row, and GPT-2's (gpt2_decode_check.h).
    const bool decodes = w->name() == kQuantModelWorkload || w->name() == "gpt2-generate";
    EXPECT_EQ(p.count("decode"), decodes ? 1u : 0u) << w->name();
  }
}

TEST(ModelChecks, NoFalseAlarmsAcrossSeeds) {
  for (uint64_t seed : {1, 2, 3}) {
    ModelCheckOptions options;
    options.workloads = {"nanogpt-shakespeare-char", "small-transformer-imdb", "gpt2-generate"};
    options.seed = seed;
    const auto rows = run_model_checks(discovered_cpu_target(), options, {});
    EXPECT_TRUE(healthy(rows)) << "seed " << seed << "\n" << describe_failures(rows);
  }
}

// bf16 on the CPU against float32 on the CPU: the tolerances hold healthy bf16 rounding. ResNet-50
// on CIFAR (BatchNorm over 4 values per channel at layer4) is beyond the fixed bf16 gradient
// tolerance at seeds 0 and 1; its measured sensitivity widens it.
TEST(ModelChecks, Bf16OnTheCpuRaisesNoFalseAlarm) {
  for (uint64_t seed : {0, 1}) {
    ModelCheckOptions options;
    options.workloads = {"gpt2-train", "bert-base-infer", "gpt2-generate", "resnet50-food101", "resnet50-cifar100"};
    options.precisions = {Precision::bf16};
    options.seed = seed;
    const auto rows = run_model_checks(discovered_cpu_target(), options, {});
    EXPECT_TRUE(healthy(rows)) << "seed " << seed << "\n" << describe_failures(rows);
    for (const CheckResult& r : rows) EXPECT_EQ(r.dtype, "bf16");
  }
}

TEST(ModelChecks, ValidationNamesWhatIsWrong) {
  const auto message = [](const ModelCheckOptions& o) {
    try {
      validate(o);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  ModelCheckOptions o;
  o.workloads = {"gpt3"};
  EXPECT_NE(message(o).find("gpt2-train"), std::string::npos) << message(o);
  o = {};
  o.workloads = {"gpt2-train"};
  o.size = "huge";
  EXPECT_NE(message(o).find("tiny, full"), std::string::npos) << message(o);
  o = {};
  o.workloads = {"llama2-7b-generate"};
  o.size = "full";
  EXPECT_NE(message(o).find("on the device"), std::string::npos) << message(o);
  o = {};
  o.training_steps = 5;
  EXPECT_NE(message(o).find("at least 20"), std::string::npos) << message(o);
  o = {};
  o.workloads = {"gpt2-generate"};
  o.weights = "gpt2.safetensors";
  EXPECT_NE(message(o).find("--vocab"), std::string::npos) << message(o);
  o.vocab = "gpt2-vocab";
  EXPECT_EQ(message(o), "(no error)");
  o.workloads = {"gpt2-train"};
  EXPECT_NE(message(o).find("gpt2-generate"), std::string::npos) << message(o);
  o = {};
  o.size = "nope";
  EXPECT_NE(message(o).find("no workload"), std::string::npos) << message(o);
}

// --- the detectors, fed what a broken device produces -------------------------------------

std::vector<double> falling(double from, double to, int steps) {
  std::vector<double> v;
  for (int i = 0; i < steps; ++i) v.push_back(from + (to - from) * i / (steps - 1));
  return v;
}

const at::Tensor kNoReference;

TEST(ModelDetectors, AFlatCurveWhileTheCpuFallsIsAFlatline) {
  const std::vector<double> cpu = falling(4.2, 2.0, 20);
  const std::vector<double> flat(20, 4.2);  // an optimizer step that does nothing
  const Tolerance t = model_tolerance(Precision::fp32, ModelQuantity::loss_curve, kNoReference);
  const CurveVerdict v = judge_training_curve(flat, cpu, t);
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message.find("flatlines"), std::string::npos) << v.message;
  EXPECT_TRUE(judge_training_curve(cpu, cpu, t).passed);
  // Both flat (nothing to learn): no flag.
  EXPECT_TRUE(judge_training_curve(flat, flat, t).passed);
}

TEST(ModelDetectors, ANanLossAndACurveThatLeavesTheCpusAreFlagged) {
  const std::vector<double> cpu = falling(4.2, 2.0, 20);
  std::vector<double> nan = cpu;
  nan[7] = std::nan("");
  const Tolerance t = model_tolerance(Precision::bf16, ModelQuantity::loss_curve, kNoReference);
  CurveVerdict v = judge_training_curve(nan, cpu, t);
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message.find("step 8"), std::string::npos) << v.message;
  std::vector<double> off = cpu;
  for (size_t i = 10; i < off.size(); ++i) off[i] += 0.8;  // falls, but not like the CPU
  v = judge_training_curve(off, cpu, model_tolerance(Precision::fp32, ModelQuantity::loss_curve, kNoReference));
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message.find("leaves the CPU's at step 11"), std::string::npos) << v.message;
}

TEST(ModelDetectors, SkippedUpdatesAlignTheCpusCurve) {
  const std::vector<double> cpu{5, 3, 1.5, 0.8, 0.4};
  EXPECT_EQ(after_same_updates(cpu, {true, true, true, true, true}), cpu);
  // Steps 0 and 1 skipped (fp16 loss scaling backing off from 65536): the losses stay at the start.
  EXPECT_EQ(after_same_updates(cpu, {false, false, true, true, true}), (std::vector<double>{5, 5, 5, 3, 1.5}));
  EXPECT_EQ(after_same_updates(cpu, {true, false, true, false, true}), (std::vector<double>{5, 3, 3, 1.5, 1.5}));
  // A curve that is the CPU's delayed by the skipped steps passes against the aligned reference only.
  const std::vector<double> device{5, 5, 5, 3, 1.5};
  const Tolerance t = model_tolerance(Precision::fp16, ModelQuantity::loss_curve, at::tensor(cpu, at::kDouble));
  EXPECT_FALSE(judge_training_curve(device, cpu, t).passed);
  EXPECT_TRUE(judge_training_curve(device, after_same_updates(cpu, {false, false, true, true, true}), t).passed);
}

TEST(ModelDetectors, ParametersUnchangedOnTheDeviceButNotOnTheCpuAreNamed) {
  const at::Tensor a = at::ones({3}), b = at::full({3}, 2.0);
  const std::map<std::string, at::Tensor> before{{"w", a}, {"frozen", a}}, cpu_after{{"w", b}, {"frozen", a}};
  EXPECT_EQ(unchanged_parameters(before, before, before, cpu_after), std::vector<std::string>{"w"});
  EXPECT_TRUE(unchanged_parameters(before, cpu_after, before, cpu_after).empty());
}

TEST(ModelDetectors, NanZeroAndConstantOutputsAreFlagged) {
  const at::Tensor ref = at::randn({4, 8}, at::kDouble);
  EXPECT_FALSE(output_flags(ref, ref, "output"));
  at::Tensor nan = ref.clone();
  nan[1][2] = std::nan("");  // an fp16 softmax overflowing
  EXPECT_NE(output_flags(nan, ref, "output")->find("NaN (1 of 32"), std::string::npos);
  EXPECT_NE(output_flags(at::zeros_like(ref), ref, "gradient of fc.weight")->find("gradient of fc.weight is all zeros"),
            std::string::npos);
  EXPECT_NE(output_flags(at::full_like(ref, 0.5), ref, "output")->find("black image"), std::string::npos);
}

// A square weight used transposed (the square-mm bug O1 of docs/silent-bugs.md) in a real model: the forward
// comparison fails at every precision's tolerance, while the same model's bf16 output passes.
TEST(ModelDetectors, TheWholeModelToleranceCatchesASquareWeightUsedTransposed) {
  const Workload& w = *find_workload("gpt2-train");
  const c10::Device cpu(c10::kCPU);
  const Shape shape{2, 16, 0};
  auto reference_session = w.open("tiny", cpu, Precision::fp32, {0});
  reference_session->prepare(shape);
  reference_session->model().eval();
  const at::Tensor reference = reference_session->forward().detach().to(at::kDouble);

  auto broken = w.open("tiny", cpu, Precision::fp32, {0});
  broken->prepare(shape);
  broken->model().eval();
  int transposed = 0;
  for (auto& p : broken->model().named_parameters())
    if (p.key() == "h.0.attn.c_proj.weight" && p.value().size(0) == p.value().size(1)) {
      at::NoGradGuard no_grad;
      p.value().copy_(p.value().t().clone());
      ++transposed;
    }
  ASSERT_EQ(transposed, 1);
  const at::Tensor wrong = broken->forward().detach();
  for (Precision p : {Precision::fp32, Precision::tf32, Precision::fp16, Precision::bf16})
    EXPECT_FALSE(compare(wrong, reference, model_tolerance(p, ModelQuantity::output, reference)).passed) << name(p);

  auto bf16 = w.open("tiny", cpu, Precision::bf16, {0});
  bf16->prepare(shape);
  bf16->model().eval();
  const Comparison healthy = compare(bf16->forward().detach(), reference,
                                     model_tolerance(Precision::bf16, ModelQuantity::output, reference));
  EXPECT_TRUE(healthy.passed) << healthy.summary();
}

TEST(ModelDetectors, TheModelsSensitivityWidensTheToleranceToThreeTimesItAndNoMore) {
  EXPECT_EQ(rounding_unit(Precision::bf16), 1.0 / 256);
  EXPECT_EQ(rounding_unit(Precision::fp16), 1.0 / 2048);
  EXPECT_EQ(rounding_unit(Precision::tf32), 1.0 / 2048);
  EXPECT_EQ(rounding_unit(Precision::fp32), 0.0);

  const at::Tensor reference = at::randn({1000}, at::kDouble);
  const double rms = finite_rms(reference);
  const Tolerance fixed = model_tolerance(Precision::bf16, ModelQuantity::gradient, reference);
  ASSERT_NEAR(fixed.atol, 3 * rms, 1e-12);

  // Perturbing the weights changes one element by 10 rms (BatchNorm over 4 values): atol 30 rms.
  const Tolerance wide = widened_by_sensitivity(fixed, 10 * rms, Precision::bf16);
  EXPECT_NEAR(wide.atol, 30 * rms, 1e-9);
  EXPECT_EQ(wide.rtol, fixed.rtol);
  EXPECT_NE(wide.description.find("widened to atol"), std::string::npos) << wide.description;
  EXPECT_NE(wide.description.find("3 x the model's change with its weights perturbed by bf16 rounding"),
            std::string::npos)
      << wide.description;
  at::Tensor near = reference.clone(), beyond = reference.clone();
  near[7] = reference[7].item<double>() + 25 * rms;
  beyond[7] = reference[7].item<double>() + 40 * rms + 3 * std::abs(reference[7].item<double>());
  EXPECT_TRUE(compare(near, reference, wide).passed);
  EXPECT_FALSE(compare(beyond, reference, wide).passed);
  EXPECT_FALSE(compare(near, reference, fixed).passed);

  // A change within the fixed tolerance leaves it as it is, and says so.
  const Tolerance same = widened_by_sensitivity(fixed, 0.01 * rms, Precision::bf16);
  EXPECT_EQ(same.atol, fixed.atol);
  EXPECT_NE(same.description.find("is within it"), std::string::npos) << same.description;

  // The figures behind it: the largest finite difference, and the share of the tolerance used.
  at::Tensor with_nan = reference.clone();
  with_nan[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NEAR(max_abs_difference(near, reference), 25 * rms, 1e-9);
  EXPECT_NEAR(max_abs_difference(with_nan, reference), 0, 0);
  EXPECT_GT(tolerance_used(beyond, reference, wide), 1.0);
  EXPECT_LT(tolerance_used(near, reference, wide), 1.0);
  EXPECT_EQ(tolerance_used(reference, reference, wide), 0.0);
}

TEST(ModelDetectors, GreedyTokensMustMatchExceptAfterANearTie) {
  Generation cpu;
  cpu.tokens = {5, 6, 7, 8};
  cpu.top2_margins = {1.0, 1.0, 1.0, 1.0};
  Generation device = cpu;
  EXPECT_TRUE(judge_generation(device, cpu, 0.01).passed);
  device.tokens[2] = 9;
  GenerationVerdict v = judge_generation(device, cpu, 0.01);
  EXPECT_FALSE(v.passed);
  EXPECT_EQ(v.first_mismatch, 2);
  EXPECT_NE(v.message.find("token 3 of 4"), std::string::npos) << v.message;
  // A near tie at token 2: the device may continue differently from there.
  cpu.top2_margins[1] = 0.001;
  device.tokens[1] = 3;
  v = judge_generation(device, cpu, 0.01);
  EXPECT_TRUE(v.passed) << v.message;
  EXPECT_EQ(v.compared, 2);
  EXPECT_NE(v.message.find("not compared"), std::string::npos) << v.message;
}

TEST(ModelDetectors, RepeatedTokenZeroAndNanLogitsAreFlagged) {
  Generation cpu;
  cpu.tokens = {5, 6, 7, 8, 9};
  cpu.top2_margins = {1, 1, 1, 1, 1};
  Generation bang = cpu;
  bang.tokens = {0, 0, 0, 0, 0};
  GenerationVerdict v = judge_generation(bang, cpu, 0.01);
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message.find("\"!!!!\""), std::string::npos) << v.message;
  Generation nan = cpu;
  nan.top2_margins[3] = std::nan("");
  v = judge_generation(nan, cpu, 0.01);
  EXPECT_FALSE(v.passed);
  EXPECT_NE(v.message.find("NaN logits"), std::string::npos) << v.message;
  EXPECT_EQ(longest_run({1, 0, 0, 2, 0, 0, 0}, 0), 3);
}

}  // namespace
}  // namespace mlspeed::verify
