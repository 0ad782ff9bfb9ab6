#include "mlspeed/core/noise.h"

#include <algorithm>
#include <cmath>

#include "mlspeed/core/stats.h"
#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

// Outliers as hyperfine finds them (sharkdp/hyperfine, outlier_detection.rs: OUTLIER_THRESHOLD =
// 1.4826 * 10.0, after Iglewicz and Hoaglin 1993): the modified Z-score (x - median) / MAD above
// 14.826, ten standard deviations as estimated from the median absolute deviation. So wide a bound keeps
// a normal spread quiet and catches the sample a compile, a page fault or another process made.
constexpr double kOutlierZ = 1.4826 * 10.0;

// hyperfine replaces a zero MAD by machine epsilon, so that a run of identical samples makes any
// other value an outlier. Timers tick (a coarse clock gives many equal samples), so the MAD is
// floored at 0.1% of the median instead: a sample must then be ~1.5% from the median to count.
constexpr double kMadFloor = 1e-3;

// A spread above 10% of the mean: a change smaller than that between two such rows is hard to
// tell from noise, while on a quiet machine a step's samples vary by a few percent at most.
constexpr double kHighCv = 0.10;

// Fewer timed iterations than this, and a median is little more than one sample. Nor are outliers
// sought below it: the MAD of three samples is the smaller of two deviations, and one set in
// twenty of three samples drawn from a normal distribution (simulated) has one 15 times the other.
constexpr int kMinIterations = 5;

int count_outliers(const std::vector<double>& xs) {
  const double mid = median(xs);
  std::vector<double> deviations;
  deviations.reserve(xs.size());
  for (double x : xs) deviations.push_back(std::fabs(x - mid));
  const double mad = std::max(median(deviations), kMadFloor * std::fabs(mid));
  if (mad <= 0) return 0;  // every sample 0: nothing stands out
  return static_cast<int>(
      std::count_if(xs.begin(), xs.end(), [&](double x) { return std::fabs(x - mid) / mad > kOutlierZ; }));
}

}  // namespace

std::string NoiseReport::flag() const {
  std::vector<std::string> parts;
  if (high_cv) parts.push_back(printf_string("cv %.0f%%", cv * 100));
  if (outliers) parts.push_back(std::to_string(outlier_count) + (outlier_count == 1 ? " outlier" : " outliers"));
  if (few_iterations) parts.push_back("n=" + std::to_string(n));
  return join(parts, ", ");
}

NoiseReport assess_noise(const std::vector<double>& samples) {
  NoiseReport report;
  report.n = static_cast<int>(samples.size());
  // No samples: the row failed or was not timed, and says so itself; there is no spread to judge.
  if (samples.empty()) return report;
  report.cv = coefficient_of_variation(samples);
  report.high_cv = report.cv > kHighCv;
  report.few_iterations = report.n < kMinIterations;
  report.outlier_count = report.few_iterations ? 0 : count_outliers(samples);
  report.outliers = report.outlier_count > 0;
  return report;
}

}  // namespace mlspeed
