// The CUDA backend on a real GPU (label gpu). Without a CUDA device every test here is skipped.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <chrono>

#include "mlspeed/bench/failure.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/timer.h"
#include "mlspeed/results/printers.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
  const c10::Device gpu{c10::DeviceType::CUDA, 0};
};

TEST_F(Cuda, DeviceFactsComeFromTheDriver) {
  const auto devices = discover_devices(/*measure_cpu_peak=*/false);
  ASSERT_GE(devices.size(), 2u);
  const DeviceFacts& d = devices[1];
  EXPECT_EQ(d.id, "cuda:0");
  EXPECT_FALSE(d.name.empty());
  EXPECT_GT(d.memory_bytes, int64_t{1} << 30);
  EXPECT_NE(d.compute_capability.find('.'), std::string::npos);
  EXPECT_GT(d.multiprocessors, 0);
  EXPECT_FALSE(d.driver.empty());
  if (d.name.find("H100") != std::string::npos) EXPECT_GT(d.peak_flops.at(Precision::bf16), 7e14);
}

TEST_F(Cuda, EventTimerMeasuresDeviceTimeNotLaunchTime) {
  const auto a = at::randn({8192, 8192}, at::TensorOptions().device(gpu).dtype(at::kFloat));
  at::mm(a, a);
  synchronize(gpu);
  auto timer = make_timer(gpu);
  const auto host_start = std::chrono::steady_clock::now();
  timer->start();
  for (int i = 0; i < 5; ++i) at::mm(a, a);  // ~5 TFLOP: milliseconds on any GPU, launched in microseconds
  const double ms = timer->stop_ms();
  const double host_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - host_start).count();
  EXPECT_GT(ms, 1.0);                // the products themselves, not the launches
  EXPECT_LE(ms, host_ms + 0.5);      // and never longer than the wall clock around them
}

TEST_F(Cuda, PeakMemoryIsTheAllocatorPeakSinceReset) {
  synchronize(gpu);
  reset_peak_memory(gpu);
  {
    auto big = at::empty({int64_t{1} << 30}, at::TensorOptions().device(gpu).dtype(at::kByte));
    big.fill_(1);
  }
  EXPECT_GE(*peak_memory(gpu), int64_t{1} << 30);
  release_cached_memory(gpu);
}

TEST_F(Cuda, ARealOutOfMemoryIsClassifiedAsOom) {
  try {
    auto huge = at::empty({int64_t{1} << 44}, at::TensorOptions().device(gpu).dtype(at::kByte));  // 16 TiB
    FAIL() << "allocated 16 TiB";
  } catch (...) {
    EXPECT_EQ(classify_failure(std::current_exception()).status, Status::oom);
  }
  release_cached_memory(gpu);
}

TEST_F(Cuda, BothWorkloadsRunInEveryDtypeThroughTheCli) {
  const auto r = testing::run_cli({"run", "-w", "nanogpt-shakespeare-char,bert-base-infer", "-d", "cuda:0",
                                   "--sizes", "tiny", "-t", "fp32,tf32,fp16,bf16", "-n", "3", "-o", "jsonl",
                                   "--no-db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 4u * (1 + 4));
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::ok) << row.workload << " " << name(row.precision) << ": " << row.message;
    EXPECT_EQ(row.tf32, row.precision == Precision::tf32);
    EXPECT_TRUE(row.peak_memory_bytes && *row.peak_memory_bytes > 0);
  }
}

}  // namespace
}  // namespace mlspeed
