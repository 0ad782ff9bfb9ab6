// The stepped counter's rate against counters whose true rate is known: published every 100 ms
// and read every 2 ms, as the NVML meter reads the energy counter.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "mlspeed/device/stepped_counter.h"

namespace mlspeed {
namespace {

// A counter rising at `watts` that publishes its value every `step` seconds, read every `poll`
// seconds from `t0` for `seconds`.
SteppedCounter read_region(double watts, double step, double poll, double t0, double seconds) {
  const auto published = [&](double t) { return watts * step * std::floor(t / step); };
  SteppedCounter counter;
  counter.start(t0, published(t0));
  for (double t = t0 + poll; t <= t0 + seconds; t += poll) counter.read(t, published(t));
  return counter;
}

TEST(SteppedCounter, TheRateIsExactOverWholeStepsWhereTheDifferenceIsOffByAStep) {
  for (const double t0 : {0.0, 0.013, 0.049, 0.0871}) {
    const SteppedCounter counter = read_region(700, 0.1, 0.002, t0, 2.05);
    ASSERT_TRUE(counter.rate(0.5).has_value()) << t0;
    EXPECT_NEAR(*counter.rate(0.5), 700, 700 * 0.002) << "a step's time is known within one read: " << t0;
    EXPECT_NEAR(*counter.step_seconds(), 0.1, 0.002);
  }
  // (The plain difference over a 2.05 s region is 2.0 or 2.1 s worth: 2.4% off either way.)
}

TEST(SteppedCounter, FewerThanTwoStepsOrTooShortASpanGiveNoRate) {
  EXPECT_FALSE(read_region(700, 0.1, 0.002, 0.01, 0.08).rate(0).has_value()) << "no step";
  EXPECT_FALSE(read_region(700, 0.1, 0.002, 0.05, 0.1).rate(0).has_value()) << "one step";
  const SteppedCounter three = read_region(700, 0.1, 0.002, 0.05, 0.3);
  EXPECT_TRUE(three.rate(0.15).has_value());
  EXPECT_FALSE(three.rate(0.25).has_value()) << "two steps 0.2 s apart are not 0.25 s";
}

TEST(SteppedCounter, ACounterThatChangesAtEveryReadIsItsOwnRate) {
  // RAPL-like: a fresh value at every read; the rate is still the slope.
  SteppedCounter counter;
  counter.start(0, 0);
  for (int i = 1; i <= 100; ++i) counter.read(i * 0.01, 30.0 * i * 0.01);
  ASSERT_TRUE(counter.rate(0.5).has_value());
  EXPECT_NEAR(*counter.rate(0.5), 30, 1e-9);
}

TEST(SteppedCounter, AReadThatCameLateDoesNotEndTheSpan) {
  // A counter with a fresh value at every read, read every 2 ms, but the first read after the
  // start came 20 ms late (the reading thread not yet running on a busy machine): placed halfway,
  // its step is 10 ms early where every other is 1 ms early, and the span is 9 ms too long, 5% of
  // this 0.18 s.
  const auto region = [](SteppedCounter counter) {
    counter.start(0, 0);
    std::vector<double> times{0.020};
    for (double t = 0.022; t < 0.199; t += 0.002) times.push_back(t);
    for (const double t : times) counter.read(t, 30 * t);
    return counter;
  };
  const SteppedCounter loose = region(SteppedCounter());
  ASSERT_TRUE(loose.rate(0.1).has_value());
  EXPECT_GT(std::abs(*loose.rate(0.1) - 30), 30 * 0.02) << "without the bracket, the late read skews the rate";
  const SteppedCounter tight = region(SteppedCounter(0.004));
  ASSERT_TRUE(tight.rate(0.1).has_value());
  EXPECT_NEAR(*tight.rate(0.1), 30, 1e-9);
  EXPECT_NEAR(*tight.step_seconds(), 0.002, 1e-9);
}

}  // namespace
}  // namespace mlspeed
