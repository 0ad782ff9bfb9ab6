// The runner with a fake workload on the CPU: timing policy, failures as rows, models built
// once, interruption.
#include "mlspeed/bench/runner.h"

#include <gtest/gtest.h>

#include "mlspeed/core/errors.h"
#include "mlspeed/device/precision_flags.h"
#include "testing/fake_workload.h"

namespace mlspeed {
namespace {

class RunnerTest : public ::testing::Test {
 protected:
  RunnerTest() {
    cpu.id = "cpu";
    cpu.kind = "cpu";
    cpu.peak_flops[Precision::fp32] = 1e12;
    progress = make_progress(false);
  }

  std::vector<Result> run(const std::vector<Configuration>& plan, TimingPolicy policy, bool* completed = nullptr) {
    std::vector<Result> rows;
    Runner runner(policy, OpenOptions{}, context, *progress, stop);
    const bool done = runner.run(plan, [&](Result& r) { rows.push_back(r); });
    if (completed) *completed = done;
    return rows;
  }

  std::vector<Configuration> plan(std::vector<int64_t> batches, Precision p = Precision::fp32, int ddp = 0) {
    SweepRequest r;
    r.data_parallel = ddp;
    r.workloads = {&fake};
    r.sizes = {"tiny"};
    r.devices = {cpu};
    r.precisions = {p};
    r.shapes.batches = std::move(batches);
    return expand(r);
  }

  testing::FakeWorkload fake;
  DeviceFacts cpu;
  RunContext context;
  std::unique_ptr<Progress> progress;
  std::atomic<bool> stop{false};
};

TEST_F(RunnerTest, TimesExactlyTheRequestedIterationsAfterWarmUp) {
  TimingPolicy policy;
  policy.warmup = 2;
  policy.iterations = 5;
  const auto rows = run(plan({1}), policy);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok);
  EXPECT_EQ(rows[0].samples_ms.size(), 5u);
  EXPECT_EQ(fake.steps, 7);
  for (double ms : rows[0].samples_ms) EXPECT_GE(ms, 1.0);  // each step sleeps 1 ms
  EXPECT_EQ(rows[0].summary.n, 5);
  EXPECT_EQ(rows[0].warmup, 2);
  // Derived figures: 1 sample/step at the median time, 1 GFLOP per sample, 1 TFLOP/s peak.
  ASSERT_TRUE(rows[0].items_per_s && rows[0].tflops && rows[0].mfu);
  EXPECT_NEAR(*rows[0].items_per_s, 1e3 / rows[0].summary.median, 1e-9);
  EXPECT_NEAR(*rows[0].tflops, *rows[0].items_per_s * 1e9 / 1e12, 1e-12);
  EXPECT_NEAR(*rows[0].mfu, *rows[0].tflops / 1.0, 1e-12);
  EXPECT_TRUE(rows[0].peak_memory_bytes.has_value());
}

TEST_F(RunnerTest, AnFp32RowIsTimedWithTf32OffAndTheProcessFlagsAreRestoredAfterIt) {
  const Tf32Flags initial = tf32_flags();
  set_tf32_flags({true, true});
  std::vector<Tf32Flags> during;
  fake.on_step = [&](int64_t) { during.push_back(tf32_flags()); };
  TimingPolicy policy;
  policy.iterations = 2;
  const auto rows = run(plan({1}), policy);
  const Tf32Flags after = tf32_flags();
  set_tf32_flags(initial);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].tf32) << "the row records the flags it was timed under";
  ASSERT_EQ(during.size(), 3u);
  for (const Tf32Flags& flags : during) EXPECT_EQ(flags, (Tf32Flags{false, false}));
  EXPECT_EQ(after, (Tf32Flags{true, true}));
}

TEST_F(RunnerTest, TheCpuHasNoGraphsSoItsRowsSayOffWhateverWasAsked) {
  for (bool asked : {true, false}) {
    TimingPolicy policy;
    policy.iterations = 2;
    policy.graphs = asked;
    const auto rows = run(plan({1}), policy);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].graphs, GraphUse::off);
    EXPECT_TRUE(rows[0].graph_note.empty());
    EXPECT_EQ(fake.steps, asked ? 3 : 6);  // 1 warm-up + 2 timed, each time: no extra step to record
  }
}

TEST_F(RunnerTest, ProfilingRunsMoreStepsAfterTimingAndItsFailureCostsTheRowNothing) {
  TimingPolicy policy;
  policy.warmup = 1;
  policy.iterations = 2;
  policy.profile_dir = "/proc/version/not-a-folder";  // writing fails
  policy.profile_steps = 3;
  std::vector<std::string> reports;
  Runner runner(policy, OpenOptions{}, context, *progress, stop);
  runner.on_profile([&](const std::string& report) { reports.push_back(report); });
  std::vector<Result> rows;
  runner.run(plan({1}), [&](Result& r) { rows.push_back(r); });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok);
  EXPECT_EQ(rows[0].samples_ms.size(), 2u);
  EXPECT_EQ(fake.steps, 1 + 2 + 3);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("not written: cannot write '/proc/version/not-a-folder/fake-tiny-cpu-fp32-b1-s8"),
            std::string::npos)
      << reports[0];

  // A step that throws while profiled (after the timed ones) leaves the row as it was timed.
  fake.steps = 0;
  fake.on_step = [&](int64_t) {
    if (fake.steps > 3) throw std::runtime_error("device lost");
  };
  reports.clear();
  rows.clear();
  runner.run(plan({1}), [&](Result& r) { rows.push_back(r); });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok);
  EXPECT_EQ(rows[0].samples_ms.size(), 2u);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("failed: device lost"), std::string::npos) << reports[0];
}

TEST_F(RunnerTest, MinimumTimeRunsUntilBothTimeAndMinimumIterationsAreReached) {
  TimingPolicy policy;
  policy.warmup = 0;
  policy.min_time_s = 0.05;
  fake.step_ms = 5;
  const auto rows = run(plan({1}), policy);
  ASSERT_EQ(rows[0].status, Status::ok);
  double total = 0;
  for (double ms : rows[0].samples_ms) total += ms;
  EXPECT_GE(total, 50.0);
  EXPECT_GE(rows[0].samples_ms.size(), 3u);

  EXPECT_TRUE(rows[0].message.empty()) << rows[0].message;

  fake.step_ms = 30;  // 3 iterations take longer than the minimum time
  const auto slow = run(plan({1}), policy);
  EXPECT_EQ(slow[0].samples_ms.size(), 3u);
}

TEST_F(RunnerTest, AMinimumTimeCutShortByTheIterationLimitSaysSo) {
  TimingPolicy policy;
  policy.warmup = 0;
  policy.min_time_s = 10;
  policy.max_iterations = 4;
  fake.step_ms = 1;
  const auto rows = run(plan({1}), policy);
  ASSERT_EQ(rows[0].status, Status::ok);
  EXPECT_EQ(rows[0].samples_ms.size(), 4u);
  EXPECT_NE(rows[0].message.find("timed 4 iterations, the most mlspeed times, in "), std::string::npos)
      << rows[0].message;
  EXPECT_NE(rows[0].message.find("of the 10 s --min-time"), std::string::npos) << rows[0].message;
}

TEST_F(RunnerTest, OutOfMemoryIsARowAndTheSweepGoesOn) {
  fake.on_step = [](int64_t batch) {
    if (batch == 2) TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory. Tried to allocate 20.00 GiB");
  };
  TimingPolicy policy;
  policy.iterations = 2;
  const auto rows = run(plan({2, 1}), policy);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, Status::oom);
  EXPECT_NE(rows[0].message.find("out of memory"), std::string::npos);
  EXPECT_TRUE(rows[0].samples_ms.empty());
  EXPECT_FALSE(rows[0].items_per_s.has_value());
  EXPECT_EQ(rows[1].status, Status::ok);
  EXPECT_EQ(fake.opens, 1);
}

TEST_F(RunnerTest, ADataParallelConfigurationIsTimedFromItsOneDeviceRowAfterThisProcessFreesItsModel) {
  TimingPolicy policy;
  policy.iterations = 2;
  std::vector<int64_t> batches_given;
  std::vector<int> opens_then;
  Runner runner(policy, OpenOptions{}, context, *progress, stop);
  runner.on_data_parallel([&](const Result& single, int world_size) {
    batches_given.push_back(single.batch);
    opens_then.push_back(fake.opens);
    Result row = single;
    row.data_parallel = true;
    row.world_size = world_size;
    return row;
  });
  std::vector<Result> rows;
  ASSERT_TRUE(runner.run(plan({1, 2}, Precision::fp32, 2), [&](Result& r) { rows.push_back(r); }));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(batches_given, (std::vector<int64_t>{1, 2})) << "each from the one-device row before it";
  EXPECT_EQ(rows[1].world_size, 2);
  EXPECT_TRUE(rows[1].data_parallel);
  EXPECT_FALSE(rows[0].data_parallel);
  EXPECT_EQ(rows[2].world_size, 1);
  // The model was freed for the ranks, and built again for the next one-device shape.
  EXPECT_EQ(opens_then, (std::vector<int>{1, 2}));
  EXPECT_EQ(fake.opens, 2);
}

TEST_F(RunnerTest, ADataParallelConfigurationWhoseOneDeviceRowFailedTakesItsStatusUntimed) {
  fake.on_step = [](int64_t batch) {
    if (batch == 2) TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory. Tried to allocate 20.00 GiB");
  };
  TimingPolicy policy;
  policy.iterations = 1;
  int timed = 0;
  Runner runner(policy, OpenOptions{}, context, *progress, stop);
  runner.on_data_parallel([&](const Result& single, int) {
    ++timed;
    return single;
  });
  std::vector<Result> rows;
  ASSERT_TRUE(runner.run(plan({2}, Precision::fp32, 2), [&](Result& r) { rows.push_back(r); }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(timed, 0);
  EXPECT_EQ(rows[1].status, Status::oom);
  EXPECT_TRUE(rows[1].data_parallel);
  EXPECT_NE(rows[1].message.find("not timed on cpu ddp x2: its one-device row failed (oom)"), std::string::npos)
      << rows[1].message;

  // A program that cannot start ranks says so in the row.
  fake.on_step = nullptr;
  const auto without = run(plan({1}, Precision::fp32, 2), policy);
  ASSERT_EQ(without.size(), 2u);
  EXPECT_EQ(without[0].status, Status::ok);
  EXPECT_EQ(without[1].status, Status::error);
  EXPECT_NE(without[1].message.find("cannot start data-parallel ranks"), std::string::npos) << without[1].message;
}

TEST_F(RunnerTest, CpuAllocationFailureFromARealTensorIsOom) {
  fake.on_step = [](int64_t batch) {
    if (batch == 2) at::empty({int64_t{1} << 45, 16}, at::kLong);  // 2^52 bytes: no machine has this
  };
  TimingPolicy policy;
  policy.iterations = 1;
  const auto rows = run(plan({2, 1}), policy);
  EXPECT_EQ(rows[0].status, Status::oom) << rows[0].message;
  EXPECT_EQ(rows[1].status, Status::ok);
}

TEST_F(RunnerTest, UnimplementedDtypeIsUnsupportedAndOtherErrorsAreErrors) {
  fake.on_step = [](int64_t batch) {
    if (batch == 2) TORCH_CHECK_NOT_IMPLEMENTED(false, "\"addmm_impl_cpu_\" not implemented for 'Half'");
    if (batch == 3) throw std::runtime_error("shape mismatch in layer 3");
  };
  TimingPolicy policy;
  policy.iterations = 1;
  const auto rows = run(plan({2, 3, 1}), policy);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].status, Status::unsupported);
  EXPECT_NE(rows[0].message.find("not implemented for 'Half'"), std::string::npos);
  EXPECT_EQ(rows[1].status, Status::error);
  EXPECT_EQ(rows[1].message, "shape mismatch in layer 3");
  EXPECT_EQ(rows[2].status, Status::ok);
}

TEST_F(RunnerTest, ADtypeTheDeviceCannotRunIsUnsupportedWithoutBuildingTheModel) {
  const auto rows = run(plan({1}, Precision::tf32), TimingPolicy{});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::unsupported);
  EXPECT_NE(rows[0].message.find("tf32"), std::string::npos);
  EXPECT_EQ(fake.opens, 0);
}

TEST_F(RunnerTest, AModelThatCannotBeBuiltFailsEachOfItsRowsOnce) {
  fake.open_throws = [] { throw std::runtime_error("weights file missing"); };
  TimingPolicy policy;
  policy.iterations = 1;
  const auto rows = run(plan({1, 2}), policy);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) {
    EXPECT_EQ(r.status, Status::error);
    EXPECT_EQ(r.message, "building the model failed: weights file missing");
  }
  EXPECT_EQ(fake.opens, 1);
}

TEST_F(RunnerTest, StoppingKeepsCompletedRowsAndDropsThePartialOne) {
  int steps = 0;
  fake.on_step = [&](int64_t) {
    if (++steps == 5) stop = true;  // during the third configuration's timing
  };
  TimingPolicy policy;
  policy.warmup = 0;
  policy.iterations = 2;
  bool completed = true;
  const auto rows = run(plan({1, 2, 3, 4}), policy, &completed);
  EXPECT_FALSE(completed);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].batch, 2);
}

TEST_F(RunnerTest, RowsCarryTheirConfigurationAndContext) {
  context.host.cpu_model = "Test CPU";
  TimingPolicy policy;
  policy.iterations = 1;
  const auto rows = run(plan({2}), policy);
  const Result& r = rows[0];
  EXPECT_EQ(r.workload, "fake");
  EXPECT_EQ(r.size, "tiny");
  EXPECT_EQ(r.device, "cpu");
  EXPECT_EQ(r.batch, 2);
  EXPECT_EQ(r.seq_len, 8);
  EXPECT_EQ(r.parameters, 10);
  EXPECT_EQ(r.items_per_step, 2);
  EXPECT_EQ(r.host.cpu_model, "Test CPU");
  EXPECT_EQ(r.device_facts.id, "cpu");
  EXPECT_FALSE(r.tf32);
  EXPECT_FALSE(r.timestamp.empty());
  ASSERT_TRUE(r.peak_tflops.has_value());
  EXPECT_DOUBLE_EQ(*r.peak_tflops, 1.0);
}

TEST_F(RunnerTest, RefusesAConfigurationWhoseEstimateExceedsFreeMemoryBeforeBuildingIt) {
  TimingPolicy policy;
  policy.warmup = 0;
  policy.iterations = 1;
  const int64_t free = *free_memory(c10::Device(c10::kCPU));
  // The model fits; one sample's step takes a third of free memory, so batch 1 fits and batch 4
  // cannot.
  fake.estimate = MemoryEstimate{1 << 20, free / 3};
  const auto rows = run(plan({1, 4}), policy);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, Status::ok);
  EXPECT_EQ(rows[1].status, Status::too_large);
  EXPECT_NE(rows[1].message.find("but cpu has"), std::string::npos) << rows[1].message;
  EXPECT_NE(rows[1].message.find("model already loaded"), std::string::npos) << rows[1].message;
  EXPECT_EQ(fake.steps, 1);  // batch 4 never ran
  EXPECT_TRUE(rows[1].samples_ms.empty());

  // A model that cannot fit at all is never built.
  fake.opens = 0;
  fake.estimate = MemoryEstimate{free * 2, 0};
  const auto refused = run(plan({1}), policy);
  EXPECT_EQ(refused[0].status, Status::too_large);
  EXPECT_EQ(fake.opens, 0);
}

TEST_F(RunnerTest, ABadInputFileStopsTheSweepAfterTheRowsAlreadyDone) {
  TimingPolicy policy;
  policy.warmup = 0;
  policy.iterations = 1;
  SweepRequest r;
  r.workloads = {&fake};
  r.sizes = {"tiny", "full"};
  r.devices = {cpu};
  r.precisions = {Precision::fp32};
  const auto configs = expand(r);
  std::vector<Result> rows;
  fake.open_throws = [&] {
    if (fake.opens == 2) throw InputFileError("weights.safetensors: truncated at byte 8");
  };
  Runner runner(policy, OpenOptions{}, context, *progress, stop);
  EXPECT_THROW(runner.run(configs, [&](Result& row) { rows.push_back(row); }), InputFileError);
  EXPECT_EQ(rows.size(), 2u);  // tiny's two batches; full never ran
}

TEST_F(RunnerTest, PassesTheOpenOptionsAndRecordsThemInEveryRow) {
  TimingPolicy policy;
  policy.warmup = 0;
  policy.iterations = 1;
  std::vector<Result> rows;
  Runner runner(policy, OpenOptions{7, "w.safetensors", "data/train.bin"}, context, *progress, stop);
  runner.run(plan({1}), [&](Result& row) { rows.push_back(row); });
  EXPECT_EQ(fake.last_open.seed, 7u);
  EXPECT_EQ(fake.last_open.weights, "w.safetensors");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].weights, "w.safetensors");
  EXPECT_EQ(rows[0].data, "synthetic");  // what the session says it read
}

}  // namespace
}  // namespace mlspeed
