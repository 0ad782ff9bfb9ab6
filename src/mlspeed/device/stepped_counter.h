// A counter that the hardware publishes in steps: NVML's total-energy counter changes about every
// 100 ms on an H100 (measured 97-103 ms under load, 2026-12-06), so its difference between a
// region's start and stop is off by up to one step: 5% of a 2-second row, and two runs of the same
// row differed by 3-5% in J/item while their times agreed to 0.5%. Read often enough to see each
// step as it happens, the counter's mean rate between the first and the last step seen inside the
// region is exact over whole steps; the region's energy is that rate times its length.
#pragma once

#include <optional>

namespace mlspeed {

class SteppedCounter {
 public:
  // The first read, at the region's start (t in seconds on one steady clock).
  void start(double t, double value);
  // Every later read, in time order. A step is placed halfway between the last read before it and
  // the first read that shows it.
  void read(double t, double value);

  // The counter's mean rate per second between the first and the last step seen, when they are at
  // least `min_span` seconds apart; empty when fewer steps were seen (a region shorter than about
  // two steps: then only the plain difference is left).
  std::optional<double> rate(double min_span) const;
  // The mean time between steps, when two or more were seen.
  std::optional<double> step_seconds() const;

 private:
  struct Step {
    double t, value;
  };
  double last_t_ = 0, last_value_ = 0;
  std::optional<Step> first_, last_;
  int steps_ = 0;
};

}  // namespace mlspeed
