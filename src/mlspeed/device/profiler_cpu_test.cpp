// LibTorch's profiler around real work on the CPU: the ops appear with their durations, and a
// failure inside the profiled work leaves the profiler off for the next capture.
#include "mlspeed/device/profiler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

namespace mlspeed {
namespace {

bool has(const std::vector<ProfiledEvent>& events, const std::string& name) {
  for (const auto& e : events)
    if (e.name == name) return !e.on_device && e.duration_us >= 0;
  return false;
}

TEST(Profiler, RecordsTheHostOpsOfTheWork) {
  const auto a = torch::randn({128, 128});
  const auto events = capture_profile(torch::kCPU, [&] { (void)torch::mm(a, a).relu(); });
  EXPECT_TRUE(has(events, "aten::mm"));
  EXPECT_TRUE(has(events, "aten::relu"));
  const auto summary = summarise(events, 1);
  EXPECT_GT(summary.host_us_per_step, 0);
  EXPECT_DOUBLE_EQ(summary.device_us_per_step, 0);
}

TEST(Profiler, WorkThatThrowsLeavesTheProfilerOff) {
  const auto a = torch::randn({8, 8});
  EXPECT_THROW(capture_profile(torch::kCPU, [&] { throw std::runtime_error("boom"); }), std::runtime_error);
  // A second capture would fail to start if the first had been left running.
  const auto events = capture_profile(torch::kCPU, [&] { (void)torch::mm(a, a); });
  EXPECT_TRUE(has(events, "aten::mm"));
}

}  // namespace
}  // namespace mlspeed
