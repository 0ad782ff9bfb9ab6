// The U test against values worked out by hand from scipy.stats.mannwhitneyu's definitions
// (two-sided, method="auto"): the exact null distribution for small samples without ties, the
// normal approximation with tie and continuity corrections otherwise.
#include "mlspeed/compare/mann_whitney.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mlspeed {
namespace {

// scipy's documentation example (ages of male and female study participants): U1 = 17,
// exact p = 0.1111 (= 14 of the 126 splits are as extreme, doubled).
TEST(MannWhitney, MatchesScipysDocumentedExampleExactly) {
  const UTest t = mann_whitney_u({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_DOUBLE_EQ(t.u, 17);
  EXPECT_TRUE(t.exact);
  EXPECT_NEAR(t.p, 0.1111111111111111, 1e-12);
}

TEST(MannWhitney, CompleteSeparationReachesTheSmallestPValue) {
  // 4 vs 4 wholly separated: 2 / C(8, 4) = 2 / 70.
  const UTest t = mann_whitney_u({1, 2, 3, 4}, {5, 6, 7, 8});
  EXPECT_DOUBLE_EQ(t.u, 0);
  EXPECT_NEAR(t.p, 2.0 / 70, 1e-12);
  EXPECT_NEAR(smallest_p_value(4, 4), 2.0 / 70, 1e-12);
  // Order does not matter to a two-sided test; U is then the mirror n1 * n2 - U.
  const UTest mirrored = mann_whitney_u({5, 6, 7, 8}, {1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(mirrored.u, 16);
  EXPECT_NEAR(mirrored.p, t.p, 1e-12);
}

TEST(MannWhitney, TwoSamplesASideCanNeverBeSignificant) {
  EXPECT_NEAR(mann_whitney_u({1, 2}, {3, 4}).p, 1.0 / 3, 1e-12);
  EXPECT_NEAR(smallest_p_value(2, 2), 1.0 / 3, 1e-12);
  EXPECT_NEAR(smallest_p_value(3, 3), 0.1, 1e-12);
  EXPECT_GT(smallest_p_value(3, 4), 0.05);  // 2 / 35
  EXPECT_LT(smallest_p_value(4, 4), 0.05);
  EXPECT_NEAR(smallest_p_value(1, 1000), 2.0 / 1001, 1e-12);
  EXPECT_LT(smallest_p_value(20, 20), 1e-9);
}

TEST(MannWhitney, TiesUseTheNormalApproximationWithTieCorrection) {
  // 2 occurs three times, 3 and 4 twice: mid-ranks give U1 = 2.5; z from U = max(U1, U2) = 13.5
  // with the tie-corrected variance and the continuity correction: p = 0.13417.
  const UTest t = mann_whitney_u({1, 2, 2, 3}, {2, 3, 4, 4});
  EXPECT_FALSE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 2.5);
  EXPECT_NEAR(t.p, 0.13416918012812581, 1e-9);
  // Ten values a side with pairs of ties: p = 0.015856.
  const UTest pairs = mann_whitney_u({1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, {3, 3, 4, 4, 5, 5, 6, 6, 7, 7});
  EXPECT_DOUBLE_EQ(pairs.u, 18);
  EXPECT_NEAR(pairs.p, 0.015856209681046236, 1e-9);
}

TEST(MannWhitney, LargeSamplesUseTheNormalApproximation) {
  // scipy's example with method="asymptotic" gives 0.11134688653314041; with 10 and 11 values
  // (no ties) the normal approximation is chosen by itself.
  const UTest t = mann_whitney_u({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5});
  EXPECT_FALSE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 45);
  EXPECT_NEAR(t.p, 0.5035147104262714, 1e-9);
}

TEST(MannWhitney, IdenticalSamplesGivePOne) {
  const std::vector<double> same(10, 5.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u(same, same).p, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u({1, 2, 3}, {1, 2, 3}).p, 1.0);
}

TEST(MannWhitney, AShiftOfTwentyPercentWithTwentySamplesIsSignificant) {
  std::vector<double> a, b;
  for (int i = 0; i < 20; ++i) {
    a.push_back(10 + 0.1 * i);
    b.push_back(12 + 0.1 * i);
  }
  const UTest t = mann_whitney_u(a, b);
  EXPECT_FALSE(t.exact);
  EXPECT_NEAR(t.p, 6.795615128173387e-08, 1e-12);
}

TEST(MannWhitney, ExactForOneSmallSampleBesideALargeOne) {
  // 3 values below all of 200: the most extreme split of C(203, 3), doubled.
  std::vector<double> large;
  for (int i = 0; i < 200; ++i) large.push_back(100 + i);
  const UTest t = mann_whitney_u({1, 2, 3}, large);
  EXPECT_TRUE(t.exact);
  EXPECT_NEAR(t.p, smallest_p_value(3, 200), 1e-15);
  EXPECT_NEAR(t.p, 2.0 / (203.0 * 202 * 201 / 6), 1e-15);
}

TEST(MannWhitney, AnEmptySampleIsRefused) {
  EXPECT_THROW(mann_whitney_u({}, {1.0}), std::invalid_argument);
}

}  // namespace
}  // namespace mlspeed
