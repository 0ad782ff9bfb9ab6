#include "mlspeed/core/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlspeed {

double mean(const std::vector<double>& xs) {
  if (xs.empty()) return 0;
  return std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(xs.size());
}

double median(std::vector<double> xs) {
  if (xs.empty()) return 0;
  const size_t mid = xs.size() / 2;
  std::nth_element(xs.begin(), xs.begin() + mid, xs.end());
  if (xs.size() % 2) return xs[mid];
  const double upper = xs[mid];
  const double lower = *std::max_element(xs.begin(), xs.begin() + mid);
  return (lower + upper) / 2;
}

double stddev(const std::vector<double>& xs) {
  if (xs.size() < 2) return 0;
  const double m = mean(xs);
  double sum = 0;
  for (double x : xs) sum += (x - m) * (x - m);
  return std::sqrt(sum / static_cast<double>(xs.size() - 1));
}

double min_of(const std::vector<double>& xs) {
  return xs.empty() ? 0 : *std::min_element(xs.begin(), xs.end());
}

double max_of(const std::vector<double>& xs) {
  return xs.empty() ? 0 : *std::max_element(xs.begin(), xs.end());
}

double coefficient_of_variation(const std::vector<double>& xs) {
  const double m = mean(xs);
  return m == 0 ? 0 : stddev(xs) / m;
}

Summary summarize(const std::vector<double>& xs) {
  Summary s;
  s.n = static_cast<int>(xs.size());
  if (xs.empty()) return s;
  s.median = median(xs);
  s.mean = mean(xs);
  s.stddev = stddev(xs);
  s.min = min_of(xs);
  s.max = max_of(xs);
  s.cv = coefficient_of_variation(xs);
  return s;
}

}  // namespace mlspeed
