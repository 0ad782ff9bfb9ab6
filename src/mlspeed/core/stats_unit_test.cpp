#include "mlspeed/core/stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mlspeed {
namespace {

TEST(Stats, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median({5}), 5);
}

TEST(Stats, SampleStandardDeviationUsesNMinusOne) {
  // Values 2,4,4,4,5,5,7,9: population sd 2, sample sd sqrt(32/7).
  const std::vector<double> xs = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(mean(xs), 5);
  EXPECT_NEAR(stddev(xs), std::sqrt(32.0 / 7.0), 1e-12);
  EXPECT_NEAR(coefficient_of_variation(xs), std::sqrt(32.0 / 7.0) / 5, 1e-12);
}

TEST(Stats, SingleSampleHasZeroSpread) {
  EXPECT_EQ(stddev({3.5}), 0);
  EXPECT_EQ(coefficient_of_variation({3.5}), 0);
}

TEST(Stats, SummaryCollectsEveryStatistic) {
  const Summary s = summarize({10, 12, 11, 30});
  EXPECT_EQ(s.n, 4);
  EXPECT_DOUBLE_EQ(s.median, 11.5);
  EXPECT_DOUBLE_EQ(s.mean, 15.75);
  EXPECT_DOUBLE_EQ(s.min, 10);
  EXPECT_DOUBLE_EQ(s.max, 30);
  EXPECT_NEAR(s.stddev, stddev({10, 12, 11, 30}), 1e-12);
  EXPECT_NEAR(s.cv, s.stddev / s.mean, 1e-12);
}

TEST(Stats, EmptySummaryIsAllZero) {
  const Summary s = summarize({});
  EXPECT_EQ(s.n, 0);
  EXPECT_EQ(s.median, 0);
  EXPECT_EQ(s.mean, 0);
}

}  // namespace
}  // namespace mlspeed
