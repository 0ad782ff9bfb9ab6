// Device facts that need LibTorch to compute: the CPU's peak (theoretical or measured) and the timer.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <thread>

#include "mlspeed/device/cpu_peak.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/peak.h"
#include "mlspeed/device/timer.h"

namespace mlspeed {
namespace {

TEST(CpuPeak, IsMeasuredForFloat32) {
  const Peak peak = measure_cpu_peak(0.3);
  ASSERT_EQ(peak.flops.count(Precision::fp32), 1u);
  EXPECT_GT(peak.flops.at(Precision::fp32), 1e8);    // any CPU of this century
  EXPECT_LT(peak.flops.at(Precision::fp32), 1e15);   // and no CPU does a petaflop
  EXPECT_NE(peak.source.find("measured"), std::string::npos);
}

TEST(Discovery, TheCpuComesFirstWithItsPeak) {
  const auto devices = discover_devices(/*measure_cpu_peak=*/true);
  ASSERT_FALSE(devices.empty());
  EXPECT_EQ(devices[0].id, "cpu");
  EXPECT_GT(devices[0].memory_bytes, 0);
  EXPECT_GT(devices[0].peak_flops.at(Precision::fp32), 0);
}

TEST(Discovery, TheCpuPeakIsTheSameFromRunToRunWhereItIsTheoretical) {
  const auto theoretical = theoretical_cpu_peak();
  if (!theoretical) GTEST_SKIP() << "this system does not describe its CPU in /proc/cpuinfo: the peak is measured";
  DeviceFacts first, second;
  measure_peak(first);
  measure_peak(second);
  EXPECT_EQ(first.peak_flops, theoretical->flops);
  EXPECT_EQ(first.peak_flops, second.peak_flops);  // a measured product swung 2x on a busy VM
  EXPECT_EQ(first.peak_source.rfind("theoretical: ", 0), 0u) << first.peak_source;
}

TEST(Timer, MeasuresTheRegionOnTheHostClockForTheCpu) {
  auto timer = make_timer(c10::Device(c10::DeviceType::CPU));
  timer->start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const double ms = timer->stop_ms();
  EXPECT_GE(ms, 20.0);
  EXPECT_LT(ms, 2000.0);
}

TEST(PeakMemory, TheCpuReportsThePeakResidentSetSinceTheReset) {
  const c10::Device cpu(c10::DeviceType::CPU);
  reset_peak_memory(cpu);
  const auto before = peak_memory(cpu);
  ASSERT_TRUE(before.has_value());
  {
    auto big = at::ones({64 * 1024 * 1024}, at::kFloat);  // 256 MiB, touched
    EXPECT_EQ(big.sum().item<float>(), 64.0f * 1024 * 1024);
  }
  const auto after = peak_memory(cpu);
  EXPECT_GE(*after, *before + 200 * 1024 * 1024);
}

}  // namespace
}  // namespace mlspeed
