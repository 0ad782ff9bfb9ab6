// A key/value cache for decoder-only generation, preallocated to the longest sequence so that
// decoding never reallocates: per layer, keys and values of shape (batch, heads, max_len,
// head_dim). Shared by GPT-2 and Llama.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace mlspeed {

class KVCache {
 public:
  KVCache() = default;
  KVCache(int64_t layers, int64_t batch, int64_t heads, int64_t max_len, int64_t head_dim,
          const at::TensorOptions& options);

  bool defined() const { return !keys_.empty(); }
  int64_t length() const { return length_; }  // positions filled so far
  int64_t max_length() const { return max_len_; }
  int64_t batch() const { return batch_; }
  int64_t bytes() const;

  // Writes k and v, each (batch, heads, T, head_dim), at positions [length(), length() + T) of
  // `layer` and returns views of every filled position of that layer, the new ones included.
  // Call advance(T) once after the last layer.
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k, const at::Tensor& v);
  void advance(int64_t t);
  void reset() { length_ = 0; }  // keeps the memory

 private:
  std::vector<at::Tensor> keys_, values_;
  int64_t batch_ = 0;
  int64_t max_len_ = 0;
  int64_t length_ = 0;
};

// Causal attention of the new queries q (batch, heads, T, head_dim) over k and v holding
// `past` cached positions followed by the T new ones. Fused SDPA throughout: is_causal for a
// prompt on an empty cache, no mask for one new token, an explicit causal mask offset by
// `past` otherwise.
at::Tensor cached_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t past);

}  // namespace mlspeed
