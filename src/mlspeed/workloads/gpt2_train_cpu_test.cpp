#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/workloads/gpt2_train.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

const Workload& gpt2_train() { return testing::catalogue_workload("gpt2-train"); }

gpt2::TrainingSession& as_gpt2_training(Session& session) { return dynamic_cast<gpt2::TrainingSession&>(session); }

TEST(Gpt2Train, DescribesItself) {
  const Workload& w = gpt2_train();
  EXPECT_EQ(w.job(), Job::train);
  EXPECT_EQ(w.item_unit(), "tokens");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 124'439'808);            // SPEC.md: GPT-2 small
  EXPECT_EQ(full->batches, std::vector<int64_t>{12});  // config/train_gpt2.py
  EXPECT_EQ(full->seqs, std::vector<int64_t>{1024});
  EXPECT_EQ(full->max_seq, 1024);
  EXPECT_TRUE(full->new_tokens.empty());
  EXPECT_EQ(w.items_per_step(Shape{12, 1024}), 12.0 * 1024);
  ASSERT_NE(find_size(w, "tiny"), nullptr);
  // The catalogue lists it right after nanoGPT's Shakespeare, as SPEC.md's table.
  const auto names = workload_names();
  const auto at = std::find(names.begin(), names.end(), "gpt2-train");
  ASSERT_NE(at, names.begin());
  EXPECT_EQ(*(at - 1), "nanogpt-shakespeare-char");
}

TEST(Gpt2Train, TinyCountsItsBuiltModel) {
  auto session = gpt2_train().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  EXPECT_EQ(gpt2::num_params(*as_gpt2_training(*session).gpt2()), find_size(gpt2_train(), "tiny")->parameters);
}

TEST(Gpt2Train, FlopsPerTokenOfFullSize) {
  // estimate_mfu: 6N + 12 L H Q T = 6 * 123,653,376 + 12 * 12 * 12 * 64 * 1024 = 855,166,464.
  EXPECT_DOUBLE_EQ(gpt2_train().flops_per_item("full", Shape{12, 1024}), 855'166'464.0);
  EXPECT_DOUBLE_EQ(gpt2_train().flops_per_item("full", Shape{12, 512}), 6.0 * 123'653'376 + 12.0 * 12 * 12 * 64 * 512);
}

TEST(Gpt2Train, MemoryEstimateIsALowerBoundThatGrowsWithTheStep) {
  const auto fp32 = gpt2_train().memory_estimate("full", Shape{12, 1024}, Precision::fp32);
  ASSERT_TRUE(fp32);
  EXPECT_EQ(fp32->model, 16 * int64_t{124'439'808});          // weights, gradients, two AdamW moments
  EXPECT_GE(fp32->per_step, int64_t{12} * 1024 * 50257 * 4);  // at least the logits
  EXPECT_LT(fp32->total(), int64_t{40} << 30);  // nanoGPT trains this batch on 40 GB A100s (bf16)
  const auto bf16 = gpt2_train().memory_estimate("full", Shape{12, 1024}, Precision::bf16);
  EXPECT_LT(bf16->per_step, fp32->per_step);
  EXPECT_LT(gpt2_train().memory_estimate("full", Shape{1, 1024}, Precision::fp32)->per_step, fp32->per_step);
}

TEST(Gpt2Train, UnknownSizeAndBadShapesAreRefused) {
  EXPECT_THROW(gpt2_train().open("huge", c10::Device(c10::kCPU), Precision::fp32, {1}), std::invalid_argument);
  auto session = gpt2_train().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  EXPECT_THROW(session->step(), c10::Error);                 // not prepared
  EXPECT_THROW(session->prepare(Shape{4, 65}), c10::Error);  // longer than 64 positions
}

TEST(Gpt2Train, SameSeedSameFirstLoss) {
  std::vector<float> losses;
  for (uint64_t seed : {5, 5, 6}) {
    auto session = gpt2_train().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {seed});
    session->prepare(Shape{4, 32});
    session->step();
    losses.push_back(as_gpt2_training(*session).last_loss().item<float>());
  }
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(losses[0], losses[2]);
}

// The whole step (autocast, loss, backward, clip, AdamW) has to drive the loss on one fixed
// batch from chance (ln 512 = 6.24) to well below 1.
void expect_gpt2_overfits_one_batch(Precision precision) {
  auto session = gpt2_train().open("tiny", c10::Device(c10::kCPU), precision, {3});
  session->prepare(Shape{4, 32});
  auto& training = as_gpt2_training(*session);
  session->step();
  const float first = training.last_loss().item<float>();
  EXPECT_NEAR(first, std::log(512.0f), 0.3f);
  std::string curve = std::to_string(first);
  for (int i = 1; i <= 400; ++i) {
    session->step();
    if (i % 50 == 0) curve += " " + std::to_string(training.last_loss().item<float>());
  }
  EXPECT_LT(training.last_loss().item<float>(), 0.5f) << "loss every 50 steps: " << curve;
}

TEST(Gpt2Train, OverfitsOneBatchInFloat32) { expect_gpt2_overfits_one_batch(Precision::fp32); }

TEST(Gpt2Train, OverfitsOneBatchUnderBFloat16Autocast) {
  if (!compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16)) GTEST_SKIP() << "no CPU bf16 autocast";
  expect_gpt2_overfits_one_batch(Precision::bf16);
}

TEST(Gpt2Train, SessionStepsInEveryCpuPrecision) {
  for (Precision precision : kAllPrecisions) {
    const bool autocast = precision == Precision::fp16 || precision == Precision::bf16;
    const at::ScalarType dtype = precision == Precision::fp16 ? at::kHalf : at::kBFloat16;
    if (autocast && !compat::autocast_supports(c10::DeviceType::CPU, dtype)) {
      EXPECT_THROW(gpt2_train().open("tiny", c10::Device(c10::kCPU), precision, {1}), c10::Error) << name(precision);
      continue;
    }
    auto session = gpt2_train().open("tiny", c10::Device(c10::kCPU), precision, {1});
    auto& training = as_gpt2_training(*session);
    session->prepare(Shape{2, 16});
    const at::Tensor before = training.gpt2()->h[0]->as<gpt2::BlockImpl>()->attn->c_attn->weight.detach().clone();
    session->step();
    session->step();
    EXPECT_TRUE(std::isfinite(training.last_loss().item<float>())) << name(precision);
    const at::Tensor after = training.gpt2()->h[0]->as<gpt2::BlockImpl>()->attn->c_attn->weight;
    EXPECT_FALSE(after.equal(before)) << name(precision);
    EXPECT_EQ(after.scalar_type(), at::kFloat) << name(precision);  // weights stay float32 under autocast
  }
}

// A GPT2LMHeadModel checkpoint: "transformer." before every name, the tied head as
// "lm_head.weight", and HF's causal-mask buffers; and the gpt2 repository's GPT2Model layout.
TEST(Gpt2Train, LoadsHuggingFaceCheckpoints) {
  testing::TempDir dir;
  auto source = gpt2_train().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {11});
  const auto& model = as_gpt2_training(*source).gpt2();
  std::vector<std::pair<std::string, at::Tensor>> lm_head, plain;
  for (const auto& p : model->named_parameters()) {
    lm_head.emplace_back("transformer." + p.key(), p.value().detach());
    plain.emplace_back(p.key(), p.value().detach());
  }
  for (int64_t i = 0; i < 2; ++i) {
    const std::string layer = "h." + std::to_string(i) + ".attn.";
    lm_head.emplace_back("transformer." + layer + "bias", at::ones({1, 1, 64, 64}).tril());
    lm_head.emplace_back("transformer." + layer + "masked_bias", at::full({}, -1e4));
    plain.emplace_back(layer + "bias", at::ones({1, 1, 64, 64}).tril());
  }
  lm_head.emplace_back("lm_head.weight", model->wte->weight.detach());
  safetensors::save(dir.file("lm_head.safetensors"), lm_head);
  safetensors::save(dir.file("plain.safetensors"), plain);

  for (const char* file : {"lm_head.safetensors", "plain.safetensors"}) {
    auto loaded = gpt2_train().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {12, dir.file(file)});
    const auto& target = as_gpt2_training(*loaded).gpt2();
    for (const auto& p : target->named_parameters())
      EXPECT_TRUE(p.value().equal(model->named_parameters()[p.key()])) << file << ": " << p.key();
  }
  // A file of another size is refused with the names and shapes that do not fit.
  auto full_shaped = plain;
  full_shaped[0].second = at::zeros({50257, 32});
  safetensors::save(dir.file("wrong.safetensors"), full_shaped);
  try {
    gpt2_train().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {12, dir.file("wrong.safetensors")});
    ADD_FAILURE() << "loaded a file of the wrong shape";
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find("wte.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mlspeed
