// Whether a configuration's timed samples can be trusted as one number, after hyperfine's
// warnings: a high coefficient of variation, statistical outliers (a sample far from the median
// in units of the median absolute deviation), or too few iterations for a median to mean much.
// Printed beside each row (the md table's noise column) and by `compare`, which will not call a
// difference between noisy rows a change without saying so.
//
// The bounds (noise.cpp says why): a coefficient of variation above 10%; any sample whose
// modified Z-score |x - median| / MAD exceeds hyperfine's 14.826; fewer than 5 samples (and then
// no outliers are sought: a handful of samples cannot tell one apart).
#pragma once

#include <string>
#include <vector>

namespace mlspeed {

struct NoiseReport {
  bool high_cv = false;
  bool outliers = false;
  bool few_iterations = false;
  double cv = 0;          // stddev / mean of the samples
  int outlier_count = 0;
  int n = 0;

  bool noisy() const { return high_cv || outliers || few_iterations; }
  // A short flag for a table cell: "" when clean, else e.g. "cv 12%", "2 outliers", "n=3",
  // joined with ", ".
  std::string flag() const;
};

// An empty sample set (a failed row) is reported clean with n = 0: the row's status says why.
NoiseReport assess_noise(const std::vector<double>& samples);

}  // namespace mlspeed
