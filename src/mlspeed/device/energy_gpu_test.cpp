// The NVML meter on a real GPU (label gpu): a second of matrix products reads an energy whose mean
// power lies within what a data-centre GPU draws, above what the same GPU draws idle for a second;
// the SM clock and temperature are sampled. Skipped without a CUDA device.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <chrono>
#include <thread>

#include "mlspeed/device/energy.h"
#include "mlspeed/device/nvml_energy.h"

namespace mlspeed {
namespace {

TEST(EnergyGpu, MatrixProductsDrawMorePowerThanIdleWithinTheCardsRange) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const std::unique_ptr<EnergyMeter> meter = make_nvml_meter(0);
  const at::Tensor a = at::randn({8192, 8192}, at::TensorOptions(at::kBFloat16).device(at::kCUDA));
  at::Tensor c = at::matmul(a, a);  // cuBLAS's set-up before the region
  torch::cuda::synchronize();

  meter->start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const EnergyReading idle = meter->stop();
  ASSERT_TRUE(idle.joules.has_value()) << idle.unavailable;

  meter->start();
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < std::chrono::seconds(1)) {
    for (int i = 0; i < 20; ++i) c = at::matmul(a, a);
    torch::cuda::synchronize();
  }
  const EnergyReading busy = meter->stop();
  ASSERT_TRUE(busy.joules.has_value()) << busy.unavailable;

  const double idle_w = *idle.joules / idle.seconds, busy_w = *busy.joules / busy.seconds;
  RecordProperty("idle_watts", std::to_string(idle_w));
  RecordProperty("busy_watts", std::to_string(busy_w));
  EXPECT_GT(idle_w, 10) << "an idle data-centre GPU still draws tens of watts";
  EXPECT_LT(busy_w, 1200) << "no single GPU draws more";
  EXPECT_GT(busy_w, 1.5 * idle_w) << "matrix products draw well above idle: idle " << idle_w << " W, busy " << busy_w;
  ASSERT_TRUE(busy.clock_median_mhz.has_value());
  EXPECT_GT(*busy.clock_median_mhz, 500);
  EXPECT_TRUE(busy.temperature_max_c.has_value());
}

}  // namespace
}  // namespace mlspeed
