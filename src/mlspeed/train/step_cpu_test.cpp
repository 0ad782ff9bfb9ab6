// Whether a training step can be recorded as a CUDA graph: never while it reads a data set on the
// host, and only with an optimizer that keeps its step count on the device.
#include "mlspeed/train/step.h"

#include <gtest/gtest.h>

namespace mlspeed::train {
namespace {

AdamW optimizer_on_cpu() {
  at::Tensor w = at::randn({4, 4}).requires_grad_(true);
  return AdamW({ParamGroup{{w}, 0.1}}, AdamWOptions{});
}

TEST(TrainingGraphSupport, AStepThatReadsADataSetRunsEagerlyAndSaysWhy) {
  const AdamW optimizer = optimizer_on_cpu();
  const GraphSupport support = graph_support(optimizer, /*reads_data=*/true);
  EXPECT_EQ(support.scope, GraphScope::none);
  EXPECT_NE(support.reason.find("--data"), std::string::npos) << support.reason;
}

TEST(TrainingGraphSupport, OnlyAFusedAdamWKeepsItsStepCountOnTheDevice) {
  const AdamW optimizer = optimizer_on_cpu();  // LibTorch 1.13's CPU: the _foreach_ path
  const GraphSupport support = graph_support(optimizer, /*reads_data=*/false);
  if (optimizer.fused()) {
    EXPECT_EQ(support.scope, GraphScope::step);
    EXPECT_TRUE(support.reason.empty());
  } else {
    EXPECT_EQ(support.scope, GraphScope::none);
    EXPECT_NE(support.reason.find("bias correction"), std::string::npos) << support.reason;
  }
}

}  // namespace
}  // namespace mlspeed::train
