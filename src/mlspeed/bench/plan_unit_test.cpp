#include "mlspeed/bench/plan.h"

#include <gtest/gtest.h>

#include "mlspeed/core/errors.h"
#include "testing/fake_workload.h"

namespace mlspeed {
namespace {

DeviceFacts device(const std::string& id) {
  DeviceFacts d;
  d.id = id;
  d.kind = id.substr(0, id.find(':'));
  return d;
}

TEST(Plan, IsTheCartesianProductWithOneModelPerWorkloadSizeDeviceAndDtype) {
  testing::FakeWorkload a("a"), b("b");
  SweepRequest r;
  r.workloads = {&a, &b};
  r.sizes = {"full"};
  r.devices = {device("cpu"), device("cuda:0")};
  r.precisions = {Precision::fp32, Precision::bf16};
  r.shapes.batches = {1, 4, 16};
  r.shapes.seqs = {16, 32};
  r.repetitions = 2;
  const auto plan = expand(r);
  ASSERT_EQ(plan.size(), 2u * 2 * 2 * 3 * 2 * 2);
  // Configurations sharing a model are adjacent, so each model is built exactly once.
  int models = 1;
  for (size_t i = 1; i < plan.size(); ++i) models += !same_model(plan[i - 1], plan[i]);
  EXPECT_EQ(models, 2 * 2 * 2);
  // Inside one model: sequence, then batch, then repetition.
  EXPECT_EQ(plan[0].shape.seq, 16);
  EXPECT_EQ(plan[0].shape.batch, 1);
  EXPECT_EQ(plan[0].repetition, 0);
  EXPECT_EQ(plan[1].repetition, 1);
  EXPECT_EQ(plan[2].shape.batch, 4);
  EXPECT_EQ(plan[6].shape.seq, 32);
}

TEST(Plan, DataParallelPutsEachTrainingConfigurationOnNDevicesRightAfterItsOneDeviceRun) {
  testing::FakeWorkload train("train"), infer("infer");
  infer.fake_job = Job::infer;
  SweepRequest r;
  r.workloads = {&train, &infer};
  r.sizes = {"tiny"};
  r.devices = {device("cuda:0")};
  r.precisions = {Precision::bf16};
  r.shapes.batches = {1, 2};
  r.data_parallel = 2;
  const auto plan = expand(r);
  ASSERT_EQ(plan.size(), 2u * 2 + 2) << "the inference workload runs on one device only";
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(plan[i].placement.is_data_parallel(), i % 2 == 1) << i;
    EXPECT_EQ(plan[i].shape.batch, plan[i - i % 2].shape.batch) << "right after its one-device run";
  }
  EXPECT_EQ(plan[1].placement.world_size(), 2);
  EXPECT_EQ(plan[1].placement.primary().id, "cuda:0");
  EXPECT_EQ(plan[1].placement.label(), "cuda:0 ddp x2");
  EXPECT_EQ(plan[0].placement.label(), "cuda:0");
  EXPECT_NE(plan[0].placement, plan[1].placement);
  // The ranks build their own models: a data-parallel configuration shares none here, and the
  // one-device shapes around it still share theirs.
  EXPECT_FALSE(same_model(plan[0], plan[1]));
  EXPECT_FALSE(same_model(plan[1], plan[1]));
  EXPECT_TRUE(same_model(plan[0], plan[2]));
  EXPECT_FALSE(plan[4].placement.is_data_parallel());
  EXPECT_FALSE(plan[5].placement.is_data_parallel());
  EXPECT_THROW(Placement::data_parallel(device("cpu"), 0), std::invalid_argument);
}

TEST(Plan, UsesEachSizesDefaultsWhenNoListIsGiven) {
  testing::FakeWorkload w;
  SweepRequest r;
  r.workloads = {&w};
  r.sizes = {"tiny", "full"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  const auto plan = expand(r);
  // tiny: batches {1,2} x seqs {8}; full: batch {4} x seqs {16,32}.
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].size, "tiny");
  EXPECT_EQ(plan[1].shape.batch, 2);
  EXPECT_EQ(plan[2].size, "full");
  EXPECT_EQ(plan[3].shape.seq, 32);
}

TEST(Plan, WorkloadsWithoutASequenceIgnoreSeqLengths) {
  testing::FakeWorkload w("noseq", /*has_seq=*/false);
  SweepRequest r;
  r.workloads = {&w};
  r.sizes = {"full"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  r.shapes.seqs = {128, 512};
  const auto plan = expand(r);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].shape.seq, 0);
}

TEST(Plan, RejectsSequencesLongerThanTheModelTakes) {
  testing::FakeWorkload w;
  SweepRequest r;
  r.workloads = {&w};
  r.sizes = {"full"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  r.shapes.seqs = {32, 100};
  try {
    expand(r);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--seq: 100 exceeds the longest sequence fake (full) takes, 64"),
              std::string::npos)
        << e.what();
  }
}

class SmallOnly : public testing::FakeWorkload {
 public:
  SmallOnly() : FakeWorkload("small-only") { sizes_small_ = {{"small", "fake small", 5, {3}, {8}, {}, 16}}; }
  const std::vector<WorkloadSize>& sizes() const override { return sizes_small_; }

 private:
  std::vector<WorkloadSize> sizes_small_;
};

TEST(Plan, SkipsASizeAWorkloadLacksButRejectsOneNoWorkloadHas) {
  testing::FakeWorkload w;
  SmallOnly s;
  SweepRequest r;
  r.workloads = {&w, &s};
  r.sizes = {"tiny", "small"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  const auto plan = expand(r);
  ASSERT_EQ(plan.size(), 3u);  // fake tiny: batches 1, 2; small-only small: batch 3
  EXPECT_EQ(plan[2].size, "small");
  EXPECT_EQ(plan[2].shape.batch, 3);
  r.sizes = {"small", "huge"};
  EXPECT_THROW(expand(r), UsageError);
}

TEST(Plan, WeightsFitOneWorkloadAndDataOnlyWorkloadsThatReadIt) {
  testing::FakeWorkload a("a"), b("b");
  SweepRequest r;
  r.workloads = {&a, &b};
  r.sizes = {"tiny"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  r.open.weights = "model.safetensors";
  EXPECT_THROW(expand(r), UsageError);
  r.workloads = {&a};
  EXPECT_EQ(expand(r).size(), 2u);

  r.open.data = "train.bin";
  try {
    expand(r);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--data: a reads no data set"), std::string::npos) << e.what();
  }
  a.data_format_text = "CIFAR-100 binary";
  EXPECT_EQ(expand(r).size(), 2u);
}

TEST(Plan, GenerationLengthsCountAgainstTheLongestSequence) {
  struct Gen : testing::FakeWorkload {
    std::vector<Shape> shapes(const WorkloadSize&, const ShapeRequest& q) const override {
      std::vector<Shape> out;
      for (int64_t n : q.new_tokens) out.push_back(Shape{1, 0, n});
      return out;
    }
  } g;
  SweepRequest r;
  r.workloads = {&g};
  r.sizes = {"full"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  r.shapes.new_tokens = {64};
  ASSERT_EQ(expand(r).size(), 1u);
  EXPECT_EQ(expand(r)[0].shape.new_tokens, 64);
  r.shapes.new_tokens = {65};
  try {
    expand(r);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--seq + --new-tokens: 65 exceeds"), std::string::npos) << e.what();
  }
}

// --weight-format multiplies the configurations of the workloads that take a format (one model
// each) and leaves the others in their own storage; a format no chosen workload takes is refused.
TEST(Plan, WeightFormatsApplyToTheWorkloadsThatTakeThem) {
  testing::FakeWorkload llama("llama"), resnet("resnet");
  llama.formats = {ModelFormat::q4_0, ModelFormat::q8_0, ModelFormat::bf16};
  SweepRequest r;
  r.workloads = {&llama, &resnet};
  r.sizes = {"full"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::bf16};
  r.shapes.batches = {1};
  r.shapes.seqs = {16};
  r.weight_formats = {ModelFormat::q4_0, ModelFormat::q8_0};
  const auto plan = expand(r);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].numerics, Numerics(Precision::bf16, ModelFormat::q4_0));
  EXPECT_EQ(plan[1].numerics, Numerics(Precision::bf16, ModelFormat::q8_0));
  EXPECT_FALSE(same_model(plan[0], plan[1]));
  EXPECT_EQ(plan[2].workload, &resnet);
  EXPECT_EQ(plan[2].numerics, Numerics(Precision::bf16));

  r.workloads = {&resnet};
  try {
    expand(r);
    FAIL() << "a format no workload takes was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--weight-format: no chosen workload stores its weights as q4_0"),
              std::string::npos)
        << e.what();
  }
}

// --depth fills the KV cache of the workloads that take one: the depth counts against the
// longest sequence, a depth above 0 with no such workload chosen is refused, and 0 (the default)
// is accepted by every workload.
TEST(Plan, DepthsApplyToTheWorkloadsThatTakeThemAndCountAgainstTheLongestSequence) {
  struct Deep : testing::FakeWorkload {
    using FakeWorkload::FakeWorkload;
    bool takes_depth() const override { return true; }
    std::vector<Shape> shapes(const WorkloadSize&, const ShapeRequest& q) const override {
      std::vector<Shape> out;
      for (int64_t d : q.depths) out.push_back(Shape{1, 0, 8, d});
      return out;
    }
  } deep("deep");
  testing::FakeWorkload flat("flat");
  SweepRequest r;
  r.workloads = {&deep};
  r.sizes = {"full"};
  r.devices = {device("cpu")};
  r.precisions = {Precision::fp32};
  r.shapes.depths = {0, 56};  // 56 + 8 = 64, the fake's longest sequence
  const auto plan = expand(r);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[1].shape.depth, 56);

  r.shapes.depths = {57};
  try {
    expand(r);
    FAIL() << "a depth past the longest sequence was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--depth + --seq + --new-tokens: 65 exceeds"), std::string::npos) << e.what();
  }

  r.workloads = {&flat};
  r.shapes.depths = {0};
  EXPECT_NO_THROW(expand(r));
  r.shapes.depths = {0, 16};
  try {
    expand(r);
    FAIL() << "a depth no workload takes was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--depth: no chosen workload generates from a KV cache"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace mlspeed
