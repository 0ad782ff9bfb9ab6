// The data-parallel row from its ranks' rows, the ranks' command line, and what --ddp refuses.
#include "mlspeed/bench/data_parallel.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mlspeed {
namespace {

// One device's row of a training configuration: 100 items a step, timed at `ms` a step.
Result training_row(const std::string& device_kind, double ms, std::optional<double> joules = std::nullopt) {
  Result r;
  r.workload = "gpt2-train";
  r.size = "tiny";
  r.job = Job::train;
  r.device = device_kind == "cuda" ? "cuda:0" : "cpu";
  r.device_facts.kind = device_kind;
  r.device_facts.id = r.device;
  r.precision = Precision::bf16;
  r.batch = 4;
  r.seq_len = 25;
  r.items_per_step = 100;
  r.flops_per_item = 1e6;
  r.peak_tflops = 10;
  r.samples_ms = {ms, ms, ms};
  r.joules_per_step = joules;
  if (joules) r.watts = *joules / (ms / 1e3);
  derive_figures(r);
  return r;
}

TEST(DataParallelRow, TheSlowestRankTimesTheStepAndEveryRankCountsItsItems) {
  const Result single = training_row("cuda", 9.0);
  const Result combined = combine_ranks({training_row("cuda", 10.0, 1.0), training_row("cuda", 12.0, 2.0)}, single);
  EXPECT_EQ(combined.status, Status::ok);
  EXPECT_EQ(combined.world_size, 2);
  EXPECT_TRUE(combined.data_parallel);
  EXPECT_EQ(combined.batch, 4) << "the batch is each device's";
  EXPECT_DOUBLE_EQ(combined.summary.median, 12.0);
  EXPECT_DOUBLE_EQ(combined.items_per_step, 200);
  EXPECT_DOUBLE_EQ(*combined.items_per_s, 200 / 0.012);
  EXPECT_DOUBLE_EQ(*combined.peak_tflops, 20) << "two devices' peak";
  EXPECT_DOUBLE_EQ(*combined.mfu, single.flops_per_item * (200 / 0.012) / 1e12 / 20);
  // T_2 / (2 T_1) = (200 / 12 ms) / (2 * 100 / 9 ms) = 0.75.
  EXPECT_DOUBLE_EQ(*combined.scaling_efficiency, 0.75);
  EXPECT_DOUBLE_EQ(*combined.joules_per_step, 3.0) << "both GPUs' energy";
  EXPECT_DOUBLE_EQ(*combined.joules_per_item, 3.0 / 200);
}

TEST(DataParallelRow, OnTheCpuTheRanksSharePackageEnergyReadOnce) {
  const Result combined =
      combine_ranks({training_row("cpu", 10.0, 1.0), training_row("cpu", 10.0, 1.2)}, training_row("cpu", 5.0));
  EXPECT_DOUBLE_EQ(*combined.joules_per_step, 1.0) << "rank 0's reading of the package both ranks ran on";
  EXPECT_DOUBLE_EQ(*combined.scaling_efficiency, 0.5);
}

TEST(DataParallelRow, ARankThatFailedFailsTheRowWithItsReason) {
  Result oom = training_row("cuda", 10.0);
  oom.status = Status::oom;
  oom.message = "CUDA out of memory";
  const Result combined = combine_ranks({training_row("cuda", 10.0), oom}, training_row("cuda", 9.0));
  EXPECT_EQ(combined.status, Status::error);
  EXPECT_EQ(combined.message, "rank 1: oom: CUDA out of memory");
  EXPECT_EQ(combined.world_size, 2);
  EXPECT_TRUE(combined.samples_ms.empty());
  EXPECT_FALSE(combined.items_per_s.has_value());
  EXPECT_FALSE(combined.scaling_efficiency.has_value());
}

TEST(DataParallelRow, EachRankTimesTheConfigurationForAsManyStepsAsTheOneDeviceRow) {
  Result single = training_row("cpu", 5.0);
  single.samples_ms.assign(17, 5.0);
  RankTiming timing;
  timing.seed = 3;
  timing.threads = 8;
  const std::vector<std::string> args = rank_arguments(single, timing, 2);
  const auto after = [&](const std::string& option) {
    const auto at = std::find(args.begin(), args.end(), option);
    return at == args.end() || at + 1 == args.end() ? std::string("(absent)") : *(at + 1);
  };
  EXPECT_EQ(args.front(), "run");
  EXPECT_EQ(after("-w"), "gpt2-train");
  EXPECT_EQ(after("--sizes"), "tiny");
  EXPECT_EQ(after("-d"), "cpu");
  EXPECT_EQ(after("-t"), "bf16");
  EXPECT_EQ(after("-b"), "4");
  EXPECT_EQ(after("-s"), "25");
  EXPECT_EQ(after("-n"), "17") << "every rank must take as many all-reducing steps";
  EXPECT_EQ(after("--seed"), "3");
  EXPECT_EQ(after("--threads"), "4") << "the CPU's ranks share its threads";
  EXPECT_EQ(after("-o"), "jsonl");
  EXPECT_NE(std::find(args.begin(), args.end(), "--no-db"), args.end());
  single.device_facts.kind = "cuda";
  single.device = "cuda:1";
  EXPECT_EQ(rank_arguments(single, timing, 2)[6], "cuda:0") << "each rank sees its one GPU as cuda:0";
}

TEST(DataParallelRow, ALaunchThatFailsIsARowWithTheReason) {
  const Result combined = time_data_parallel(training_row("cpu", 5.0), 2, RankTiming{}, "/bin/false", nullptr);
  EXPECT_EQ(combined.status, Status::error);
  EXPECT_EQ(combined.message.rfind("data-parallel on 2 devices failed: rank ", 0), 0u) << combined.message;
  EXPECT_NE(combined.message.find("exited with status 1"), std::string::npos) << combined.message;
  const Result garbled = time_data_parallel(training_row("cpu", 5.0), 1, RankTiming{}, "/bin/echo", nullptr);
  EXPECT_EQ(garbled.status, Status::error);
  EXPECT_TRUE(garbled.data_parallel) << "a failed one-rank row is still told from the one-device row";
  EXPECT_TRUE(is_data_parallel(garbled));
  EXPECT_EQ(garbled.message.rfind("rank 0's row could not be read", 0), 0u) << garbled.message;
}

}  // namespace
}  // namespace mlspeed
