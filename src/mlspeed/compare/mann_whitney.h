// The Mann–Whitney U test (two-sided), as google-benchmark's tools/compare.py runs it through
// scipy.stats.mannwhitneyu: does one set of timed samples tend to be larger than the other? It
// ranks the samples, so it needs no normal distribution and one slow outlier cannot decide it.
//
// The p-value follows scipy's method="auto":
//   exact   when one sample has at most 8 values and no value occurs twice: the probability,
//           over every way of splitting the pooled values into the two groups, of a U at least as
//           extreme (computed by counting, not approximated);
//   normal  otherwise: the normal approximation with the tie correction of the variance and a
//           continuity correction of 0.5.
// One departure from scipy: the exact count is used only while the larger sample has at most
// kExactLimit values (its cost grows with the square of n1 * n2); past that the normal
// approximation is already accurate to far below any alpha anyone uses.
#pragma once

#include <vector>

namespace mlspeed {

struct UTest {
  double u = 0;        // U of the first sample: how many (a, b) pairs have a > b, ties counting 1/2
  double p = 1;        // two-sided p-value, in [0, 1]
  bool exact = false;  // which of the two methods above gave p
};

inline constexpr int kExactLimit = 1000;

// Both samples need at least one value (std::invalid_argument otherwise).
UTest mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

// The smallest two-sided p-value the test can return for samples of these sizes: 2 / C(n1+n2, n1),
// reached when every value of one sample is below every value of the other. When it is not below
// alpha the test cannot call any difference significant, whatever the samples (2 vs 2: 0.33).
double smallest_p_value(int n1, int n2);

// google-benchmark's compare.py warns that a U test on fewer repetitions than this is unreliable.
inline constexpr int kOptimalSamples = 9;

}  // namespace mlspeed
