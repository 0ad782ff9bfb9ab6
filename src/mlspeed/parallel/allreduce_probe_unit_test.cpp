#include "mlspeed/parallel/allreduce_probe.h"

#include <gtest/gtest.h>

namespace mlspeed::parallel {
namespace {

TEST(AllreduceProbe, BusBandwidthIsNcclTestsRingFactor) {
  EXPECT_EQ(bus_bandwidth(100, 1), 0);    // nothing crosses a link
  EXPECT_EQ(bus_bandwidth(100, 2), 100);  // 2 (n - 1) / n = 1
  EXPECT_DOUBLE_EQ(bus_bandwidth(100, 4), 150);
  EXPECT_DOUBLE_EQ(bus_bandwidth(100, 8), 175);
  EXPECT_THROW(bus_bandwidth(100, 0), c10::Error);
}

}  // namespace
}  // namespace mlspeed::parallel
