#include "mlspeed/compare/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace mlspeed {
namespace {

struct Ranks {
  double sum_a = 0;             // rank sum of the first sample (ranks from 1; ties get their mean rank)
  std::vector<int> tie_groups;  // the size of every run of equal values (1 for a value seen once)
};

Ranks rank(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<std::pair<double, bool>> pooled;  // value, from a
  for (double x : a) pooled.emplace_back(x, true);
  for (double x : b) pooled.emplace_back(x, false);
  std::sort(pooled.begin(), pooled.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  Ranks ranks;
  for (size_t first = 0; first < pooled.size();) {
    size_t last = first;
    while (last + 1 < pooled.size() && pooled[last + 1].first == pooled[first].first) ++last;
    const double mid_rank = (static_cast<double>(first + last) / 2) + 1;
    for (size_t i = first; i <= last; ++i)
      if (pooled[i].second) ranks.sum_a += mid_rank;
    ranks.tie_groups.push_back(static_cast<int>(last - first + 1));
    first = last + 1;
  }
  return ranks;
}

// How many of the C(small + large, small) ways to split the pooled values give each U (index u),
// by the recurrence on where the largest value falls: f(i, j)[u] = f(i - 1, j)[u - j] + f(i, j - 1)[u].
// Kept for every i at the current j only, so memory is small * small * large.
std::vector<double> u_counts(int small, int large) {
  std::vector<std::vector<double>> f(small + 1, std::vector<double>{1.0});  // j = 0: U is 0
  for (int j = 1; j <= large; ++j) {
    for (int i = 1; i <= small; ++i) {
      std::vector<double> next(static_cast<size_t>(i) * j + 1, 0.0);
      std::copy(f[i].begin(), f[i].end(), next.begin());  // the largest value is one of the j
      for (size_t u = 0; u < f[i - 1].size(); ++u) next[u + j] += f[i - 1][u];  // it is one of the i
      f[i] = std::move(next);
    }
  }
  return f[small];
}

double exact_p(double u_max, int n1, int n2) {
  const std::vector<double> counts = u_counts(std::min(n1, n2), std::max(n1, n2));
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  double at_least = 0;
  for (size_t u = static_cast<size_t>(std::llround(u_max)); u < counts.size(); ++u) at_least += counts[u];
  return std::min(1.0, 2 * at_least / total);
}

double normal_p(double u_max, int n1, int n2, const std::vector<int>& tie_groups) {
  const double n = n1 + n2;
  double tie_term = 0;
  for (int t : tie_groups) tie_term += static_cast<double>(t) * t * t - t;
  const double variance = n1 * static_cast<double>(n2) / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (variance <= 0) return 1.0;  // every value equal: nothing to tell the samples apart
  const double z = (u_max - n1 * static_cast<double>(n2) / 2 - 0.5) / std::sqrt(variance);
  return std::clamp(std::erfc(z / std::sqrt(2.0)), 0.0, 1.0);  // 2 * P(Z > z)
}

}  // namespace

UTest mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) throw std::invalid_argument("Mann-Whitney U test: a sample is empty");
  const int n1 = static_cast<int>(a.size()), n2 = static_cast<int>(b.size());
  const Ranks ranks = rank(a, b);
  UTest test;
  test.u = ranks.sum_a - n1 * (n1 + 1.0) / 2;
  // Two-sided: the tail beyond the larger of U and its mirror n1 * n2 - U, doubled.
  const double u_max = std::max(test.u, n1 * static_cast<double>(n2) - test.u);
  const bool ties = std::any_of(ranks.tie_groups.begin(), ranks.tie_groups.end(), [](int t) { return t > 1; });
  test.exact = std::min(n1, n2) <= 8 && std::max(n1, n2) <= kExactLimit && !ties;
  test.p = test.exact ? exact_p(u_max, n1, n2) : normal_p(u_max, n1, n2, ranks.tie_groups);
  return test;
}

double smallest_p_value(int n1, int n2) {
  if (n1 <= 0 || n2 <= 0) return 1.0;
  // C(n1 + n2, n1) through logarithms: it overflows a double long before the p-value matters.
  const double log_splits = std::lgamma(n1 + n2 + 1.0) - std::lgamma(n1 + 1.0) - std::lgamma(n2 + 1.0);
  return std::min(1.0, 2 * std::exp(-log_splits));
}

}  // namespace mlspeed
