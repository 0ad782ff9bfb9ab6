// A key/value cache for decoder-only generation, preallocated to the longest sequence so that
// decoding never reallocates: per layer, keys and values of shape (batch, heads, capacity,
// head_dim). Shared by GPT-2 and Llama.
//
// Two ways to fill it:
//   * host position (eager generation, `mlspeed generate`, verification): append() writes at
//     length(), a host counter, and returns views of the filled positions only;
//   * device position (static decoding, replayed from a CUDA graph): the position of the next
//     write is an int64 tensor on the cache's device. write_at_position() writes one token there
//     with an index op, decode_mask() hides the positions after it, advance_position() moves it,
//     all on the device, so one decode step is the same sequence of kernels at every position and
//     the host never reads a device value. Attention then runs over the whole capacity, masked.
//
// The capacity is the longest sequence rounded up to a multiple of 16 so that the additive mask's
// rows (and the cache's position axis) keep the alignment fused attention kernels need; the
// padding is masked. The cache is zero-initialised: masked positions that were never written are
// still read, and 0 * NaN (garbage of an uninitialised allocation) would be NaN.
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

  // The positions allocated for a sequence of up to `max_len`: max_len rounded up to 16.
  static int64_t capacity_for(int64_t max_len);

  bool defined() const { return !keys_.empty(); }
  int64_t length() const { return length_; }  // host position: positions filled so far
  int64_t max_length() const { return max_len_; }
  int64_t capacity() const { return capacity_; }
  int64_t batch() const { return batch_; }
  int64_t bytes() const;

  // Host position. Writes k and v, each (batch, heads, T, head_dim), at positions [length(),
  // length() + T) of `layer` and returns views of every filled position of that layer, the new
  // ones included. Call advance(T) once after the last layer.
  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k, const at::Tensor& v);
  void advance(int64_t t);
  void reset() { length_ = 0; }  // keeps the memory
  // Back to `length` filled positions, keeping the first `length` (a context filled once and
  // generated from again and again, llama-bench's -d); the ones after are overwritten.
  void rewind(int64_t length);

  // Device position: int64 (1,) on the cache's device, the position the next token is written at.
  const at::Tensor& position() const { return position_; }
  // Sets it on the device (a fill: no host synchronisation, and a constant a graph can record).
  void set_position(int64_t p);
  // Writes one new token's k and v, each (batch, heads, 1, head_dim), at position() of `layer`
  // and returns that layer's whole keys and values (batch, heads, capacity, head_dim): attend
  // to them with decode_mask(). Call advance_position() once after the last layer.
  std::pair<at::Tensor, at::Tensor> write_at_position(int64_t layer, const at::Tensor& k, const at::Tensor& v);
  void advance_position();
  // Layer `layer`'s whole keys and values (batch, heads, capacity, head_dim), for kernels that
  // write and read at position() themselves (fused/decode_kernels.h).
  std::pair<at::Tensor, at::Tensor> layer(int64_t layer) const { return {keys_.at(layer), values_.at(layer)}; }
  // At least `count` int32 counters on the cache's device, zero: kernels that split one sequence's
  // work over several thread blocks count their blocks here to find the last one (the fused decode
  // attention), and leave them at zero. Allocated and zeroed on the first call for a count (a
  // graph that records that call records the zeroing, harmless when replayed).
  const at::Tensor& counters(int64_t count);
  // The additive mask of one new query at position(): (1, 1, 1, capacity) in `dtype`, 0 up to
  // and including position(), -inf after it. Made once per decode step and shared by the layers.
  at::Tensor decode_mask(at::ScalarType dtype) const;

 private:
  std::vector<at::Tensor> keys_, values_;
  int64_t batch_ = 0;
  int64_t max_len_ = 0;
  int64_t capacity_ = 0;
  int64_t length_ = 0;
  at::Tensor position_;  // int64 (1,), on the device
  at::Tensor slots_;     // 0 .. capacity - 1, int64, on the device: what the mask compares
  at::Tensor counters_;  // int32, on the device (counters())
};

// Causal attention of the new queries q (batch, heads, T, head_dim) over k and v holding
// `past` cached positions followed by the T new ones. Fused SDPA throughout: is_causal for a
// prompt on an empty cache, no mask for one new token, an explicit causal mask offset by
// `past` otherwise.
at::Tensor cached_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t past);

// Attention of one new query per sequence, q (batch, heads, 1, head_dim) or with the queries of
// a head group folded into the query axis, over a whole cache layer (write_at_position) with
// its decode_mask().
at::Tensor decode_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask);

}  // namespace mlspeed
