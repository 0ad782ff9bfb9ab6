// The KV cache's device-position mode (static decoding, as CUDA graphs replay it) against its
// host-position mode.
#include "mlspeed/models/kv_cache.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace mlspeed {
namespace {

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

TEST(KVCache, CapacityIsRoundedUpTo16AndZeroed) {
  EXPECT_EQ(KVCache::capacity_for(1), 16);
  EXPECT_EQ(KVCache::capacity_for(16), 16);
  EXPECT_EQ(KVCache::capacity_for(20), 32);
  EXPECT_EQ(KVCache::capacity_for(512), 512);
  KVCache cache(2, 3, 4, 20, 8, at::TensorOptions(at::kFloat));
  EXPECT_EQ(cache.max_length(), 20);
  EXPECT_EQ(cache.capacity(), 32);
  EXPECT_EQ(cache.bytes(), 2 * 2 * 3 * 4 * 32 * 8 * 4);
  // Every position reads as zero before it is written: masked positions are still read.
  cache.set_position(0);
  const auto [k, v] = cache.write_at_position(1, at::ones({3, 4, 1, 8}), at::ones({3, 4, 1, 8}));
  EXPECT_EQ(k.sizes(), (std::vector<int64_t>{3, 4, 32, 8}));
  EXPECT_EQ(k.narrow(2, 1, 31).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(v.narrow(2, 1, 31).abs().sum().item<double>(), 0.0);
}

TEST(KVCache, WritesOneTokenAtTheDevicePosition) {
  KVCache cache(1, 2, 3, 10, 4, at::TensorOptions(at::kFloat));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor k = at::randn({2, 3, 1, 4}, gen), v = at::randn({2, 3, 1, 4}, gen);
  cache.set_position(6);
  EXPECT_EQ(cache.position().item<int64_t>(), 6);
  EXPECT_EQ(cache.position().scalar_type(), at::kLong);
  const auto [keys, values] = cache.write_at_position(0, k, v);
  EXPECT_TRUE(keys.narrow(2, 6, 1).equal(k));
  EXPECT_TRUE(values.narrow(2, 6, 1).equal(v));
  EXPECT_EQ(keys.narrow(2, 0, 6).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(cache.length(), 0) << "the host position is untouched";
  cache.advance_position();
  EXPECT_EQ(cache.position().item<int64_t>(), 7);
  // Transposed views (as the models' q/k/v are) are written by value.
  const at::Tensor kt = at::randn({2, 1, 3, 4}, gen).transpose(1, 2);
  cache.write_at_position(0, kt, kt);
  EXPECT_TRUE(keys.narrow(2, 7, 1).equal(kt));
  EXPECT_THROW(cache.write_at_position(0, at::zeros({2, 3, 2, 4}), at::zeros({2, 3, 2, 4})), c10::Error);
  EXPECT_THROW(cache.write_at_position(1, k, v), c10::Error);
  EXPECT_THROW(cache.set_position(11), c10::Error);
}

TEST(KVCache, DecodeMaskHidesThePositionsAfterTheCurrentOne) {
  KVCache cache(1, 1, 1, 20, 2, at::TensorOptions(at::kFloat));
  cache.set_position(5);
  for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    const at::Tensor mask = cache.decode_mask(dtype);
    EXPECT_EQ(mask.scalar_type(), dtype);
    ASSERT_EQ(mask.sizes(), (std::vector<int64_t>{1, 1, 1, 32}));
    EXPECT_EQ(mask.stride(-2) % 16, 0) << "row stride aligned for fused attention";
    const at::Tensor row = mask.view({32}).to(at::kFloat);
    for (int64_t i = 0; i < 32; ++i) {
      const float m = row[i].item<float>();
      if (i <= 5)
        EXPECT_EQ(m, 0.0f) << i;
      else
        EXPECT_TRUE(std::isinf(m) && m < 0) << i;
    }
  }
  cache.advance_position();
  EXPECT_EQ(cache.decode_mask(at::kFloat).view({32})[6].item<float>(), 0.0f);
}

// One new token attending over the whole cache with the mask is the host path's attention over
// the filled positions only, whatever the masked positions hold.
TEST(KVCache, MaskedDecodeAttentionEqualsAttentionOverTheFilledPositions) {
  c10::InferenceMode inference;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  const int64_t B = 2, H = 3, D = 8, filled = 9;
  KVCache host(1, B, H, 12, D, at::TensorOptions(at::kFloat)), device(1, B, H, 12, D, at::TensorOptions(at::kFloat));
  const at::Tensor k = at::randn({B, H, filled, D}, gen), v = at::randn({B, H, filled, D}, gen);
  const at::Tensor q = at::randn({B, H, 1, D}, gen);
  host.append(0, k.narrow(2, 0, filled - 1), v.narrow(2, 0, filled - 1));
  host.advance(filled - 1);
  const auto [hk, hv] = host.append(0, k.narrow(2, filled - 1, 1), v.narrow(2, filled - 1, 1));
  const at::Tensor expected = cached_attention(q, hk, hv, filled - 1);

  device.append(0, k.narrow(2, 0, filled - 1), v.narrow(2, 0, filled - 1));  // a prompt pass
  device.set_position(filled - 1);
  // Stale values past the position (a longer earlier step) must not leak in.
  const auto [whole_k, whole_v] = device.write_at_position(0, at::full({B, H, 1, D}, 1e4), at::full({B, H, 1, D}, 1e4));
  whole_k.narrow(2, filled, 12 + 4 - filled).fill_(1e4);
  whole_v.narrow(2, filled, 12 + 4 - filled).fill_(-1e4);
  device.write_at_position(0, k.narrow(2, filled - 1, 1), v.narrow(2, filled - 1, 1));
  const at::Tensor got = decode_attention(q, whole_k, whole_v, device.decode_mask(at::kFloat));
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT(max_diff(got, expected), 1e-6);
}

}  // namespace
}  // namespace mlspeed
