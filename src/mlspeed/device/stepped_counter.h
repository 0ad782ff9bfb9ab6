// A counter that the hardware publishes in steps: NVML's total-energy counter changes about every
// 100 ms on an H100 (measured 97-103 ms under load, 2026-12-06), so its difference between a
// region's start and stop is off by up to one step: 5% of a 2-second row, and two runs of the same
// row differed by 3-5% in J/item while their times agreed to 0.5%. Read often enough to see each
// step as it happens, the counter's mean rate between the first and the last step seen inside the
// region is exact over whole steps; the region's energy is that rate times its length.
#pragma once

#include <limits>
#include <optional>

namespace mlspeed {

class SteppedCounter {
 public:
  // `max_bracket`: how far apart, in seconds, the two reads around a step may be for the step to
  // end the rate's span. A read that comes late (a busy machine holding back the reading thread)
  // leaves its step's time uncertain by half the gap: such a step is counted, but the span runs
  // from and to better-placed ones.
  explicit SteppedCounter(double max_bracket = std::numeric_limits<double>::infinity())
      : max_bracket_(max_bracket) {}

  // The first read, at the region's start (t in seconds on one steady clock).
  void start(double t, double value);
  // Every later read, in time order. A step is placed halfway between the last read before it and
  // the first read that shows it.
  void read(double t, double value);

  // The counter's mean rate per second between the first and the last well-placed step, when they
  // are at least `min_span` seconds apart; empty when fewer such steps were seen (a region shorter
  // than about two steps: then only the plain difference is left).
  std::optional<double> rate(double min_span) const;
  // The mean time between those steps, when two or more were seen.
  std::optional<double> step_seconds() const;

 private:
  struct Step {
    double t, value;
    int index;  // of the steps seen since start, 1 for the first
  };
  double max_bracket_;
  double last_t_ = 0, last_value_ = 0;
  std::optional<Step> first_, last_;
  int steps_ = 0;
};

}  // namespace mlspeed
