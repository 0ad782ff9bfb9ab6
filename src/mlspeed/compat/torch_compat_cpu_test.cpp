// compat::sdpa against attention written out by hand: softmax(Q K^T / sqrt(d) + mask) V.
#include "mlspeed/compat/torch_compat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mlspeed {
namespace {

at::Tensor reference_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool causal,
                               const at::Tensor& additive_mask = {}) {
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (causal) {
    const at::Tensor future = at::ones({q.size(-2), k.size(-2)}, at::kBool).triu(/*diagonal=*/1);
    scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
  }
  if (additive_mask.defined()) scores = scores + additive_mask;
  return at::matmul(at::softmax(scores, -1), v);
}

struct Qkv {
  at::Tensor q, k, v;
};

Qkv random_qkv() {
  at::manual_seed(7);
  const auto shape = std::vector<int64_t>{2, 3, 9, 8};  // batch, heads, seq, head_dim
  return {at::randn(shape), at::randn(shape), at::randn(shape)};
}

TEST(Sdpa, MatchesHandWrittenAttention) {
  const Qkv t = random_qkv();
  const at::Tensor expected = reference_attention(t.q, t.k, t.v, /*causal=*/false);
  const at::Tensor got = compat::sdpa(t.q, t.k, t.v, /*is_causal=*/false, 0.0);
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
}

TEST(Sdpa, CausalMatchesHandWrittenAttention) {
  const Qkv t = random_qkv();
  const at::Tensor expected = reference_attention(t.q, t.k, t.v, /*causal=*/true);
  const at::Tensor got = compat::sdpa(t.q, t.k, t.v, /*is_causal=*/true, 0.0);
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
  // The causal result must differ from the full one except at the last position, which sees all.
  const at::Tensor full = compat::sdpa(t.q, t.k, t.v, /*is_causal=*/false, 0.0);
  EXPECT_GT((got - full).abs().max().item<double>(), 1e-3);
  EXPECT_LT((got.select(2, 8) - full.select(2, 8)).abs().max().item<double>(), 1e-5);
}

TEST(Sdpa, AdditiveMaskIsAddedToTheScores) {
  const Qkv t = random_qkv();
  // Hide the last three keys of every query.
  at::Tensor mask = at::zeros({1, 1, 1, 9});
  mask.narrow(3, 6, 3).fill_(-1e9);
  const at::Tensor expected = reference_attention(t.q, t.k, t.v, /*causal=*/false, mask);
  const at::Tensor got = compat::sdpa(t.q, t.k, t.v, /*is_causal=*/false, 0.0, mask);
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
  // Equivalent to attending over the first six keys only.
  const at::Tensor truncated =
      compat::sdpa(t.q, t.k.narrow(2, 0, 6), t.v.narrow(2, 0, 6), /*is_causal=*/false, 0.0);
  EXPECT_LT((got - truncated).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace mlspeed
