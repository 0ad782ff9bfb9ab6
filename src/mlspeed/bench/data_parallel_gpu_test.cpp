// `run --ddp`'s training path on CUDA (testing/data_parallel_steps.h): ranks started by the rank
// launcher, each shown its one GPU, joined over NCCL through RankRole, train gpt2-train tiny in
// bf16 for 20 AdamW steps, every step after the first a replay of a CUDA graph that holds the
// gradient all-reduces. One rank (the one-GPU machine) loses what one process loses; two ranks
// (a machine with two GPUs) lose, on average, what one GPU loses on the combined batch, within
// bf16's tolerance.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <string>
#include <vector>

#include "mlspeed/parallel/process_groups.h"
#include "testing/data_parallel_steps.h"

namespace mlspeed {
namespace {

DeviceFacts first_gpu() {
  DeviceFacts gpu;
  gpu.id = "cuda:0";
  gpu.kind = "cuda";
  return gpu;
}

// Skips without CUDA or NCCL, or with fewer than `gpus` GPUs.
bool can_run(int gpus) {
  if (!torch::cuda::is_available() || !parallel::group_unavailable(c10::kCUDA).empty()) return false;
  return static_cast<int>(torch::cuda::device_count()) >= gpus;
}

TEST(DataParallelStepsGpu, OneNcclRankLosesWhatOneProcessLoses) {
  if (testing::run_as_rank(first_gpu(), Precision::bf16)) return;
  if (!can_run(1)) GTEST_SKIP() << "needs a CUDA GPU and NCCL";
  std::vector<std::string> uses;
  const auto ranks = testing::launch_training_ranks(1, {"0"}, &uses);
  EXPECT_EQ(uses, std::vector<std::string>{"step"}) << "the rank's step, all-reduces and all, is one CUDA graph";
  const auto whole = testing::gpt2_losses(first_gpu(), Precision::bf16, testing::kStepsRankBatch);
  testing::expect_mean_loss_of_ranks(ranks, whole, 1e-3);
}

TEST(DataParallelStepsGpu, TwoNcclRanksLoseWhatOneGpuLosesOnTheCombinedBatch) {
  if (testing::run_as_rank(first_gpu(), Precision::bf16)) return;
  if (!can_run(2)) GTEST_SKIP() << "needs two CUDA GPUs (a multi-GPU machine) and NCCL";
  std::vector<std::string> uses;
  const auto ranks = testing::launch_training_ranks(2, {"0", "1"}, &uses);
  EXPECT_EQ(uses, (std::vector<std::string>{"step", "step"}));
  const auto whole = testing::gpt2_losses(first_gpu(), Precision::bf16, 2 * testing::kStepsRankBatch);
  testing::expect_mean_loss_of_ranks(ranks, whole, 2e-2);
}

}  // namespace
}  // namespace mlspeed
