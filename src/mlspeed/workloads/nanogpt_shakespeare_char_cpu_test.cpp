#include "mlspeed/workloads/nanogpt_shakespeare_char.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

const Workload& nanogpt() { return testing::catalogue_workload("nanogpt-shakespeare-char"); }

nanogpt::TrainingSession& as_nanogpt_training(Session& session) {
  return dynamic_cast<nanogpt::TrainingSession&>(session);
}

TEST(NanoGptShakespeareChar, DescribesItself) {
  const Workload& w = nanogpt();
  EXPECT_EQ(w.job(), Job::train);
  EXPECT_EQ(w.item_unit(), "tokens");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 10'646'784);
  EXPECT_EQ(full->batches, std::vector<int64_t>{64});
  EXPECT_EQ(full->seqs, std::vector<int64_t>{256});
  EXPECT_EQ(full->max_seq, 256);
  const WorkloadSize* tiny = find_size(w, "tiny");
  ASSERT_NE(tiny, nullptr);
  EXPECT_EQ(tiny->batches, std::vector<int64_t>{4});
  EXPECT_EQ(tiny->seqs, std::vector<int64_t>{32});
  EXPECT_EQ(w.items_per_step(Shape{64, 256}), 64.0 * 256);
}

TEST(NanoGptShakespeareChar, EverySizeCountsItsBuiltModel) {
  for (const WorkloadSize& size : nanogpt().sizes()) {
    auto session = nanogpt().open(size.name, c10::Device(c10::kCPU), Precision::fp32, {1});
    EXPECT_EQ(nanogpt::num_params(*as_nanogpt_training(*session).gpt(), /*non_embedding=*/true), size.parameters)
        << size.name;
  }
}

TEST(NanoGptShakespeareChar, FlopsPerTokenOfFullSize) {
  // estimate_mfu: 6N + 12 L H Q T = 6 * 10,646,784 + 12 * 6 * 6 * 64 * 256 = 70,958,592.
  EXPECT_DOUBLE_EQ(nanogpt().flops_per_item("full", Shape{64, 256}), 70'958'592.0);
  EXPECT_DOUBLE_EQ(nanogpt().flops_per_item("full", Shape{64, 128}),
                   6.0 * 10'646'784 + 12.0 * 6 * 6 * 64 * 128);
}

TEST(NanoGptShakespeareChar, UnknownSizeAndBadShapesAreRefused) {
  EXPECT_THROW(nanogpt().open("huge", c10::Device(c10::kCPU), Precision::fp32, {1}), std::invalid_argument);
  auto session = nanogpt().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  EXPECT_THROW(session->prepare(Shape{4, 33}), c10::Error);  // longer than block 32
  EXPECT_THROW(session->step(), c10::Error);                 // not prepared
}

TEST(NanoGptShakespeareChar, SameSeedSameFirstLoss) {
  std::vector<float> losses;
  for (uint64_t seed : {5, 5, 6}) {
    auto session = nanogpt().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {seed});
    session->prepare(Shape{4, 32});
    as_nanogpt_training(*session).gpt()->eval();  // no dropout: the loss depends on weights and data only
    session->step();
    losses.push_back(as_nanogpt_training(*session).last_loss().item<float>());
  }
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(losses[0], losses[2]);
}

// The overfit-one-batch check: the whole step (autocast, loss, backward, clip, AdamW) has to
// drive the loss on one fixed batch from chance (ln 65 = 4.17) to well below 1.
void expect_nanogpt_overfits_one_batch(Precision precision) {
  auto session = nanogpt().open("tiny", c10::Device(c10::kCPU), precision, {3});
  session->prepare(Shape{4, 32});
  auto& training = as_nanogpt_training(*session);
  session->step();
  const float first = training.last_loss().item<float>();
  EXPECT_NEAR(first, std::log(65.0f), 0.3f);
  std::string curve = std::to_string(first);
  for (int i = 1; i <= 400; ++i) {
    session->step();
    if (i % 50 == 0) curve += " " + std::to_string(training.last_loss().item<float>());
  }
  const float last = training.last_loss().item<float>();
  EXPECT_LT(last, 0.5f) << "loss every 50 steps: " << curve;
}

TEST(NanoGptShakespeareChar, OverfitsOneBatchInFloat32) { expect_nanogpt_overfits_one_batch(Precision::fp32); }

TEST(NanoGptShakespeareChar, OverfitsOneBatchUnderBFloat16Autocast) {
  if (!compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16)) GTEST_SKIP() << "no CPU bf16 autocast";
  expect_nanogpt_overfits_one_batch(Precision::bf16);
}

TEST(NanoGptShakespeareChar, SessionStepsInEveryCpuPrecision) {
  for (Precision precision : kAllPrecisions) {
    const bool autocast = precision == Precision::fp16 || precision == Precision::bf16;
    const at::ScalarType dtype = precision == Precision::fp16 ? at::kHalf : at::kBFloat16;
    if (autocast && !compat::autocast_supports(c10::DeviceType::CPU, dtype)) {
      EXPECT_THROW(nanogpt().open("tiny", c10::Device(c10::kCPU), precision, {1}), c10::Error)
          << name(precision);
      continue;
    }
    auto session = nanogpt().open("tiny", c10::Device(c10::kCPU), precision, {1});
    auto& training = as_nanogpt_training(*session);
    session->prepare(Shape{2, 16});  // any shape within the block
    const at::Tensor before = training.gpt()->wte->weight.detach().clone();
    session->step();
    session->step();
    EXPECT_TRUE(std::isfinite(training.last_loss().item<float>())) << name(precision);
    EXPECT_FALSE(training.gpt()->wte->weight.equal(before)) << name(precision);
    // Weights stay float32 under autocast.
    EXPECT_EQ(training.gpt()->wte->weight.scalar_type(), at::kFloat) << name(precision);
  }
}

}  // namespace
}  // namespace mlspeed
