#include "mlspeed/verify/compare.h"
#include "testing/text.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>

namespace mlspeed::verify {
namespace {

using ::mlspeed::testing::contains;

const Tolerance kFp32 = tolerance_for(at::kFloat, false, OpFamily::elementwise);

TEST(Compare, IdenticalOutputsMatch) {
  const at::Tensor ref = at::randn({10, 10}, at::kDouble);
  const Comparison c = compare(ref.to(at::kFloat), ref, kFp32);
  EXPECT_TRUE(c.passed);
  EXPECT_EQ(c.mismatched, 0);
  EXPECT_FALSE(c.first_bad_index.has_value());
  EXPECT_TRUE(contains(c.summary(), "matches (fp32 elementwise")) << c.summary();
}

TEST(Compare, PartialCorruptionIsCountedLocatedAndSized) {
  const at::Tensor ref = at::randn({4, 25}, at::kDouble);
  at::Tensor out = ref.to(at::kFloat).clone();
  out[1][7] += 0.5;
  out[2][0] -= 0.25;
  out[3][24] += 0.5;
  const Comparison c = compare(out, ref, kFp32);
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.elements, 100);
  EXPECT_EQ(c.mismatched, 3);
  EXPECT_DOUBLE_EQ(c.mismatch_fraction, 0.03);
  ASSERT_TRUE(c.first_bad_index.has_value());
  EXPECT_EQ(*c.first_bad_index, (std::vector<int64_t>{1, 7}));
  EXPECT_NEAR(c.max_abs_error, 0.5, 1e-6);
  EXPECT_TRUE(contains(c.summary(), "3% of elements (3 of 100) off by up to 0.5")) << c.summary();
  EXPECT_TRUE(contains(c.summary(), "first at [1, 7]")) << c.summary();
}

TEST(Compare, NanAndInfinityMatchOnlyThemselves) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const at::Tensor ref = at::tensor({1.0, nan, inf, -inf, 2.0}, at::kDouble);
  EXPECT_TRUE(compare(ref.to(at::kFloat), ref, kFp32).passed);  // NaN = NaN, inf = inf here

  const at::Tensor out = at::tensor({nan, nan, -inf, -inf, 2.0}, at::kFloat);
  const Comparison c = compare(out, ref, kFp32);
  EXPECT_EQ(c.mismatched, 2);  // a NaN for 1.0, -inf for +inf
  EXPECT_EQ(c.nan_output, 2);
  EXPECT_EQ(c.nan_reference, 1);
  EXPECT_EQ(*c.first_bad_index, (std::vector<int64_t>{0}));
  EXPECT_TRUE(contains(c.summary(), "2 NaN where the reference has 1")) << c.summary();
}

TEST(Compare, AnAllZeroOutputIsCalledOut) {
  const at::Tensor ref = at::rand({3, 8, 8}, at::kDouble) + 0.1;
  const Comparison c = compare(at::zeros({3, 8, 8}), ref, kFp32);
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.zero_output, 192);
  EXPECT_TRUE(contains(c.summary(), "the output is all zeros")) << c.summary();
}

// A passing output whose largest relative error is 50 (an error of 5e-6 next to a reference of
// 1e-7) is fine: atol decided there, and the row says so in those terms.
TEST(Compare, TheFigureShownIsTheOneTheToleranceTested) {
  const at::Tensor ref = at::tensor({1e-7, 1.0, -2.0}, at::kDouble);
  const Comparison near_zero = compare(ref + at::tensor({5e-6, 0.0, 0.0}, at::kDouble), ref, kFp32);
  EXPECT_TRUE(near_zero.passed);
  EXPECT_NEAR(near_zero.max_rel_error, 50, 1e-6);
  ASSERT_TRUE(near_zero.error_ratio.has_value());
  EXPECT_NEAR(*near_zero.error_ratio, 0.5, 1e-6);
  EXPECT_TRUE(contains(near_zero.summary(), "worst element: abs error 5e-06 (tolerance 1e-05)")) << near_zero.summary();
  EXPECT_FALSE(contains(near_zero.summary(), "50")) << near_zero.summary();

  // Far from zero rtol decides: relative error 1e-6 against 1.3e-6 + 1e-5 / 1000.
  const at::Tensor big = at::tensor({1000.0, 1.0}, at::kDouble);
  const Comparison relative = compare(big + at::tensor({1e-3, 0.0}, at::kDouble), big, kFp32);
  EXPECT_TRUE(relative.passed);
  EXPECT_TRUE(contains(relative.summary(), "worst element: rel error 1e-06 (tolerance 1.31e-06)"))
      << relative.summary();

  const Comparison off = compare(ref + at::tensor({0.0, 1e-3, 0.0}, at::kDouble), ref, kFp32);
  EXPECT_FALSE(off.passed);
  EXPECT_NEAR(*off.error_ratio, 1e-3 / (1e-5 + 1.3e-6), 1e-3);
  EXPECT_TRUE(contains(off.summary(), "off by up to 0.001, first at [1]; worst element: abs error 0.001 (tolerance "
                                      "1.13e-05), 88.5 times its tolerance")) << off.summary();
}

TEST(Compare, IntegersMustBeExact) {
  const at::Tensor x = at::randint(-5, 5, {64}, at::kInt);
  const at::Tensor ref = x.to(at::kLong).cumsum(0);
  const Tolerance exact = tolerance_for(at::kInt, false, OpFamily::reduction, 64);
  EXPECT_TRUE(exact.exact);
  EXPECT_TRUE(compare(x.cumsum(0, at::kInt), ref, exact).passed);
  // The bug class "integer cumsum returns its input".
  EXPECT_EQ(compare(x.cumsum(0, at::kInt), ref, exact).error_ratio, std::optional<double>(0));
  const Comparison c = compare(x, ref, exact);
  EXPECT_FALSE(c.passed);
  EXPECT_GT(c.mismatched, 0);
  EXPECT_FALSE(c.error_ratio.has_value()) << "nothing is allowed to divide by";
  EXPECT_TRUE(contains(c.summary(), "(int32: exact)")) << c.summary();
}

TEST(Compare, ShapeMismatchFailsWithoutThrowing) {
  const Comparison c = compare(at::zeros({2, 3}), at::zeros({3, 2}, at::kDouble), kFp32);
  EXPECT_FALSE(c.passed);
  EXPECT_FALSE(c.shape_matches);
  EXPECT_TRUE(contains(c.summary(), "shape [2, 3] differs")) << c.summary();
}

TEST(Compare, ToleranceFollowsDtypeFamilyAndReductionSize) {
  EXPECT_DOUBLE_EQ(tolerance_for(at::kFloat, false, OpFamily::elementwise).rtol, 1.3e-6);
  EXPECT_DOUBLE_EQ(tolerance_for(at::kHalf, false, OpFamily::elementwise).rtol, 1e-3);
  EXPECT_DOUBLE_EQ(tolerance_for(at::kBFloat16, false, OpFamily::elementwise).rtol, 1.6e-2);
  EXPECT_DOUBLE_EQ(tolerance_for(at::kFloat, false, OpFamily::reduction, 512).rtol, 1e-4);
  EXPECT_DOUBLE_EQ(tolerance_for(at::kFloat, false, OpFamily::reduction, 4096).rtol, 2e-4);  // sqrt(4)
  EXPECT_DOUBLE_EQ(tolerance_for(at::kFloat, true, OpFamily::reduction, 1024).rtol, 2e-2);
  EXPECT_DOUBLE_EQ(tolerance_for(at::kHalf, false, OpFamily::reduction, 4096).rtol, 4e-2);
  EXPECT_DOUBLE_EQ(tolerance_for(at::kHalf, false, OpFamily::reduction, 1 << 20).rtol, 5e-2);    // capped
  EXPECT_DOUBLE_EQ(tolerance_for(at::kBFloat16, false, OpFamily::reduction, 1 << 20).rtol, 1e-1);  // capped
  EXPECT_TRUE(contains(tolerance_for(at::kBFloat16, false, OpFamily::reduction, 4096).description,
                       "bf16 reduction over K=4096"));
}

TEST(Compare, ABFloat16MatmulPassesItsToleranceAndFailsFloat32s) {
  const at::Tensor a = at::randn({64, 512}) / 8, b = at::randn({512, 64}) / 8;
  const at::Tensor out = at::mm(a.to(at::kBFloat16), b.to(at::kBFloat16));
  const at::Tensor ref = at::mm(reference_input(a, at::kBFloat16), reference_input(b, at::kBFloat16));
  EXPECT_TRUE(compare(out, ref, tolerance_for(at::kBFloat16, false, OpFamily::reduction, 512)).passed);
  EXPECT_FALSE(compare(out, ref, tolerance_for(at::kFloat, false, OpFamily::reduction, 512)).passed)
      << "bf16's rounding of the output alone is far beyond fp32's tolerance";
}

TEST(Compare, NonContiguousOutputsCompareByIndex) {
  const at::Tensor ref = at::randn({6, 9}, at::kDouble);
  at::Tensor out = ref.t().to(at::kFloat).contiguous().t();  // same values, transposed strides
  ASSERT_FALSE(out.is_contiguous());
  EXPECT_TRUE(compare(out, ref, kFp32).passed);
  out[5][8] = 100;
  EXPECT_EQ(*compare(out, ref, kFp32).first_bad_index, (std::vector<int64_t>{5, 8}));
}

TEST(Compare, ReferenceInputsAreRoundedToTheTestedDtypeFirst) {
  const at::Tensor x = at::tensor({1.0f + 1.0f / 1024, 3.0f});
  const at::Tensor r = reference_input(x, at::kBFloat16);
  EXPECT_EQ(r.scalar_type(), at::kDouble);
  EXPECT_EQ(r[0].item<double>(), 1.0);  // bf16 has 8 bits of mantissa
  EXPECT_EQ(reference_input(x, at::kFloat)[0].item<double>(), 1.0 + 1.0 / 1024);
  const at::Tensor ids = at::tensor({1, 2, 3}, at::kLong);
  EXPECT_EQ(reference_input(ids, at::kBFloat16).scalar_type(), at::kLong);
}

}  // namespace
}  // namespace mlspeed::verify
