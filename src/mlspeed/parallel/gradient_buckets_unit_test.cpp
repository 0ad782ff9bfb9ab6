#include "mlspeed/parallel/gradient_buckets.h"

#include <gtest/gtest.h>

namespace mlspeed::parallel {
namespace {

std::vector<size_t> indices(const GradientBucket& b) { return b.params; }

TEST(GradientBuckets, PackTheParametersInReverseOrderUpToTheCap) {
  // 4, 4, 8 and 2 floats: 16, 16, 32 and 8 bytes.
  const std::vector<at::Tensor> params{at::zeros({4}), at::zeros({2, 2}), at::zeros({8}), at::zeros({2})};
  const auto buckets = assign_buckets(params, 40);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(indices(buckets[0]), (std::vector<size_t>{3, 2}));  // 8 + 32 bytes
  EXPECT_EQ(buckets[0].bytes, 40);
  EXPECT_EQ(indices(buckets[1]), (std::vector<size_t>{1, 0}));
  EXPECT_EQ(buckets[1].bytes, 32);
}

TEST(GradientBuckets, AParameterLargerThanTheCapGetsABucketOfItsOwn) {
  const std::vector<at::Tensor> params{at::zeros({1}), at::zeros({100}), at::zeros({1})};
  const auto buckets = assign_buckets(params, 16);
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(indices(buckets[1]), std::vector<size_t>{1});
  EXPECT_EQ(buckets[1].bytes, 400);
}

TEST(GradientBuckets, DtypesAreNeverMixedInABucket) {
  const std::vector<at::Tensor> params{at::zeros({2}), at::zeros({2}, at::kDouble), at::zeros({2})};
  const auto buckets = assign_buckets(params, 1 << 20);
  ASSERT_EQ(buckets.size(), 3u);
  for (const auto& b : buckets) EXPECT_EQ(b.params.size(), 1u);
}

TEST(GradientBuckets, EveryParameterIsInExactlyOneBucket) {
  std::vector<at::Tensor> params;
  for (int i = 1; i <= 20; ++i) params.push_back(at::zeros({i}));
  std::vector<int> seen(params.size(), 0);
  for (const auto& b : assign_buckets(params, 64))
    for (size_t k : b.params) ++seen[k];
  for (int n : seen) EXPECT_EQ(n, 1);
  EXPECT_THROW(assign_buckets(params, 0), c10::Error);
}

}  // namespace
}  // namespace mlspeed::parallel
