#include "mlspeed/train/autocast.h"

#include <gtest/gtest.h>
#include <torch/utils.h>

namespace mlspeed::train {
namespace {

constexpr auto kCpuType = c10::DeviceType::CPU;

TEST(AutocastGuard, MatmulRunsInBFloat16InsideAndFloat32After) {
  const at::Tensor a = at::randn({8, 8}), b = at::randn({8, 8});
  ASSERT_FALSE(compat::autocast_enabled(kCpuType));
  {
    AutocastGuard autocast(kCpuType, at::kBFloat16);
    EXPECT_TRUE(compat::autocast_enabled(kCpuType));
    EXPECT_EQ(at::matmul(a, b).scalar_type(), at::kBFloat16);
  }
  EXPECT_FALSE(compat::autocast_enabled(kCpuType));
  EXPECT_EQ(at::matmul(a, b).scalar_type(), at::kFloat);
}

TEST(AutocastGuard, NestedGuardsRestoreTheOuterState) {
  const at::Tensor a = at::randn({4, 4});
  const at::ScalarType dtype_before = compat::autocast_dtype(kCpuType);
  {
    AutocastGuard outer(kCpuType, at::kBFloat16);
    {
      AutocastGuard inner(kCpuType, at::kBFloat16);
      EXPECT_EQ(at::mm(a, a).scalar_type(), at::kBFloat16);
    }
    EXPECT_TRUE(compat::autocast_enabled(kCpuType));  // the inner exit leaves the outer region on
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kBFloat16);
  }
  EXPECT_FALSE(compat::autocast_enabled(kCpuType));
  EXPECT_EQ(compat::autocast_dtype(kCpuType), dtype_before);
  EXPECT_EQ(at::mm(a, a).scalar_type(), at::kFloat);
}

TEST(AutocastGuard, OutermostExitDropsTheCachedWeights) {
  // Autocast caches the bf16 copy of a leaf that requires grad (a weight) for the whole region.
  const at::Tensor x = at::randn({2, 4});
  const at::Tensor w = at::randn({3, 4}).requires_grad_(true);
  const auto update_weight = [&] {
    torch::NoGradGuard no_grad;
    w.add_(1.0);  // what an optimizer step does between two forwards
  };
  at::Tensor first, stale, fresh;
  {
    AutocastGuard autocast(kCpuType, at::kBFloat16);
    first = at::linear(x, w).detach();
    update_weight();
    stale = at::linear(x, w).detach();  // same region: the cached copy of the old weight
  }
  {
    AutocastGuard autocast(kCpuType, at::kBFloat16);
    fresh = at::linear(x, w).detach();  // new region: cast again from the updated weight
  }
  EXPECT_TRUE(stale.equal(first)) << "autocast no longer caches weights; this test shows nothing";
  EXPECT_FALSE(fresh.equal(first));
  const at::Tensor expected = at::linear(x.to(at::kBFloat16), w.detach().to(at::kBFloat16));
  EXPECT_TRUE(fresh.equal(expected));
}

}  // namespace
}  // namespace mlspeed::train
