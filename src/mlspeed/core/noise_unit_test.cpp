#include "mlspeed/core/noise.h"

#include <gtest/gtest.h>

namespace mlspeed {
namespace {

// Ten steady samples around 100 ms, spread ±1 ms: cv ~0.7%, MAD 0.5 ms.
std::vector<double> steady() { return {99, 100, 101, 100, 99.5, 100.5, 100, 99, 101, 100}; }

TEST(Noise, SteadySamplesAreClean) {
  const NoiseReport r = assess_noise(steady());
  EXPECT_FALSE(r.noisy());
  EXPECT_EQ(r.flag(), "");
  EXPECT_EQ(r.n, 10);
  EXPECT_EQ(r.outlier_count, 0);
  EXPECT_LT(r.cv, 0.01);
}

TEST(Noise, OneSlowSampleIsAnOutlier) {
  // 100 + 14.826 × MAD(0.5) ≈ 107.4: 110 ms is beyond it, 107 ms is not.
  std::vector<double> xs = steady();
  xs.push_back(110);
  NoiseReport r = assess_noise(xs);
  EXPECT_TRUE(r.outliers);
  EXPECT_EQ(r.outlier_count, 1);
  EXPECT_FALSE(r.high_cv);
  EXPECT_EQ(r.flag(), "1 outlier");

  xs.back() = 107;
  r = assess_noise(xs);
  EXPECT_FALSE(r.outliers);
}

TEST(Noise, HyperfinesOwnExamples) {
  // From hyperfine's outlier tests: a single far value is flagged, a normal sample is not.
  EXPECT_EQ(assess_noise({0.5, 0.30, 0.29, 0.31, 0.30}).outlier_count, 1);
  EXPECT_EQ(assess_noise({2.33269488, 1.42195907, -0.57527698, -0.31293437, 2.2948158, 0.75813273, -1.0712388,
                          -0.96394741, -1.15897446, 1.10976285})
                .outlier_count,
            0);
  // Identical samples and one off (a zero MAD): the far one is an outlier...
  EXPECT_EQ(assess_noise({10, 10, 10, 10, 10, 10, 10, 100}).outlier_count, 1);
}

TEST(Noise, ATimerTickIsNotAnOutlierWhenTheMadIsZero) {
  // ...but one clock tick (0.1% of the median) from a run of equal samples is not.
  EXPECT_EQ(assess_noise({10, 10, 10, 10, 10, 10, 10, 10.01}).outlier_count, 0);
}

TEST(Noise, WideSpreadIsHighCv) {
  // Alternating 80 and 120 ms: mean 100, sd ~21: cv above 10%, yet no single sample stands out.
  const NoiseReport r = assess_noise({80, 120, 80, 120, 80, 120, 80, 120});
  EXPECT_TRUE(r.high_cv);
  EXPECT_FALSE(r.outliers);
  EXPECT_NEAR(r.cv, 0.214, 0.001);
  EXPECT_EQ(r.flag(), "cv 21%");
}

TEST(Noise, CvJustUnderTheBoundIsClean) {
  // 91 and 109 alternating: sd ~9.6, cv ~9.6%.
  EXPECT_FALSE(assess_noise({91, 109, 91, 109, 91, 109, 91, 109}).high_cv);
}

TEST(Noise, FewIterations) {
  NoiseReport r = assess_noise({100, 101, 100});
  EXPECT_TRUE(r.few_iterations);
  EXPECT_EQ(r.flag(), "n=3");
  EXPECT_TRUE(assess_noise({100}).few_iterations);
  EXPECT_FALSE(assess_noise({100, 101, 100, 99, 100}).few_iterations);
}

TEST(Noise, FlagsJoinInOneCell) {
  // Eleven samples, one far off: a high spread and its cause.
  NoiseReport r = assess_noise({100, 100.5, 99.5, 100, 100.2, 99.8, 100, 100.1, 99.9, 100, 400});
  EXPECT_TRUE(r.high_cv);
  EXPECT_TRUE(r.outliers);
  EXPECT_FALSE(r.few_iterations);
  EXPECT_EQ(r.flag(), "cv 71%, 1 outlier");

  // Three samples, one far off: too few to call it an outlier, not too few to see the spread.
  r = assess_noise({100, 100.5, 400});
  EXPECT_FALSE(r.outliers);
  EXPECT_EQ(r.flag(), "cv 86%, n=3");
}

TEST(Noise, NoSamplesIsNotNoise) {
  const NoiseReport r = assess_noise({});
  EXPECT_FALSE(r.noisy());
  EXPECT_EQ(r.n, 0);
  EXPECT_EQ(r.flag(), "");
}

}  // namespace
}  // namespace mlspeed
