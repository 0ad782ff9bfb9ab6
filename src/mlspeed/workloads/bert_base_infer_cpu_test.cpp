#include "mlspeed/workloads/bert_base_infer.h"
#include "testing/catalogue.h"

#include <gtest/gtest.h>

#include <vector>

namespace mlspeed {
namespace {

const Workload& bert_base() { return testing::catalogue_workload("bert-base-infer"); }

bert::InferenceSession& as_bert_session(Session& session) {
  return dynamic_cast<bert::InferenceSession&>(session);
}

TEST(BertBaseInfer, DescribesItself) {
  const Workload& w = bert_base();
  EXPECT_EQ(w.job(), Job::infer);
  EXPECT_EQ(w.item_unit(), "samples");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 109'482'240);
  EXPECT_EQ(full->batches, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(full->seqs, (std::vector<int64_t>{128, 512}));
  EXPECT_EQ(full->max_seq, 512);
  EXPECT_EQ(w.items_per_step(Shape{4, 512}), 4.0);
}

TEST(BertBaseInfer, EverySizeCountsItsBuiltModel) {
  for (const WorkloadSize& size : bert_base().sizes()) {
    auto session = bert_base().open(size.name, c10::Device(c10::kCPU), Precision::fp32, {1});
    EXPECT_EQ(bert::num_params(*as_bert_session(*session).bert_model()), size.parameters) << size.name;
  }
}

TEST(BertBaseInfer, FlopsPerSequenceOfFullSize) {
  // Per sequence of T tokens: T * 12 * (2 * (4 * 768^2 + 2 * 768 * 3072) + 4 * T * 768) + 2 * 768^2.
  // T = 128: 128 * 12 * (14,155,776 + 393,216) + 1,179,648 = 22,348,431,360.
  EXPECT_DOUBLE_EQ(bert_base().flops_per_item("full", Shape{1, 128}), 22'348'431'360.0);
  // T = 512: 512 * 12 * (14,155,776 + 1,572,864) + 1,179,648 = 96,637,943,808.
  EXPECT_DOUBLE_EQ(bert_base().flops_per_item("full", Shape{4, 512}), 96'637'943'808.0);
}

TEST(BertBaseInfer, StepsAtTinySizeInFloat32AndBFloat16) {
  for (Precision precision : {Precision::fp32, Precision::tf32, Precision::bf16}) {
    auto session = bert_base().open("tiny", c10::Device(c10::kCPU), precision, {1});
    auto& inference = as_bert_session(*session);
    EXPECT_FALSE(inference.bert_model()->is_training());
    for (const Shape& shape : {Shape{1, 16}, Shape{2, 32}}) {
      session->prepare(shape);
      session->step();
      const auto& out = inference.last_bert_output();
      EXPECT_EQ(out.sequence_output.sizes(), (std::vector<int64_t>{shape.batch, shape.seq, 32}))
          << name(precision);
      EXPECT_EQ(out.pooled_output.sizes(), (std::vector<int64_t>{shape.batch, 32})) << name(precision);
      EXPECT_EQ(out.sequence_output.scalar_type(), precision == Precision::bf16 ? at::kBFloat16 : at::kFloat);
      EXPECT_TRUE(at::isfinite(out.sequence_output).all().item<bool>()) << name(precision);
    }
  }
}

TEST(BertBaseInfer, SameSeedSameOutputsAcrossSessions) {
  std::vector<at::Tensor> pooled;
  for (uint64_t seed : {9, 9, 10}) {
    auto session = bert_base().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {seed});
    session->prepare(Shape{2, 16});
    session->step();
    pooled.push_back(as_bert_session(*session).last_bert_output().pooled_output);
  }
  EXPECT_TRUE(pooled[0].equal(pooled[1]));
  EXPECT_FALSE(pooled[0].equal(pooled[2]));
}

TEST(BertBaseInfer, RefusesSequencesPastMaxPosition) {
  auto session = bert_base().open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  EXPECT_THROW(session->prepare(Shape{1, 65}), c10::Error);
  EXPECT_THROW(bert_base().flops_per_item("huge", Shape{1, 16}), std::invalid_argument);
}

}  // namespace
}  // namespace mlspeed
