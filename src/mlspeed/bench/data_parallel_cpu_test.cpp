// `run --ddp`'s training path end to end on the CPU (testing/data_parallel_steps.h): two Gloo ranks,
// processes started by the rank launcher and joined through RankRole, train gpt2-train tiny for 20
// AdamW steps, and their mean loss is one process's on the combined batch at every step.
#include <gtest/gtest.h>

#include "mlspeed/parallel/process_groups.h"
#include "testing/data_parallel_steps.h"

namespace mlspeed {
namespace {

TEST(DataParallelSteps, TwoGlooRanksLoseWhatOneProcessLosesOnTheCombinedBatch) {
  DeviceFacts cpu;
  cpu.id = cpu.kind = "cpu";
  if (testing::run_as_rank(cpu, Precision::fp32)) return;
  if (const std::string why = parallel::group_unavailable(c10::kCPU); !why.empty()) GTEST_SKIP() << why;
  const auto ranks = testing::launch_training_ranks(2);
  const auto whole = testing::gpt2_losses(cpu, Precision::fp32, 2 * testing::kStepsRankBatch);
  testing::expect_mean_loss_of_ranks(ranks, whole, 1e-5);
}

}  // namespace
}  // namespace mlspeed
