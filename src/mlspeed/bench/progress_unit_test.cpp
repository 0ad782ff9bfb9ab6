// The progress line's estimate of the time left in a sweep.
#include "mlspeed/bench/progress.h"

#include <gtest/gtest.h>

namespace mlspeed {
namespace {

TEST(SweepTimeLeft, TheFirstConfigurationStandsForThoseToCome) {
  // 3 s into the first of 10, 2 s of timing left: 5 s each, so 2 + 9 x 5.
  EXPECT_DOUBLE_EQ(seconds_left({0, 0, 3, 2, 9}), 47);
}

TEST(SweepTimeLeft, ConfigurationsToComeTakeTheMeanSoFar) {
  // Finished: 4 configurations in 20 s; the current one 1 s in with 3 s left (4 s).
  // Mean (20 + 4) / 5 = 4.8 s for each of the 5 to come, after the current 3 s.
  EXPECT_DOUBLE_EQ(seconds_left({20, 4, 1, 3, 5}), 3 + 5 * 4.8);
}

TEST(SweepTimeLeft, TheLastConfigurationHasOnlyItsOwnRemainder) {
  EXPECT_DOUBLE_EQ(seconds_left({100, 9, 7, 1.5, 0}), 1.5);
}

TEST(SweepTimeLeft, ALongCurrentConfigurationRaisesTheEstimateForThoseToCome) {
  // The same sweep, the current configuration slower than the others: more time left overall.
  EXPECT_GT(seconds_left({10, 5, 30, 10, 4}), seconds_left({10, 5, 1, 1, 4}) + 10);
}

}  // namespace
}  // namespace mlspeed
