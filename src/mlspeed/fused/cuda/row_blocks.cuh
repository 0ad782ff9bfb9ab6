// The launch shape the row kernels of this folder share (the norms: RMSNorm, the residual adds +
// LayerNorm): one thread block a row, each thread holding 8 consecutive values of each chunk of
// the row in registers, 1, 2 or 4 chunks a thread (kChunks, a template argument so that the
// registers are arrays the compiler can keep), at most 1024 threads. A row of `cols` values
// (cols a multiple of 8, at most kRowMaxCols) takes fused_row_threads(cols) threads, a multiple of
// 32: a thread past the row's end holds zeros and takes part in the block's sums.
#pragma once

#include <cstdint>
#include <type_traits>

#include "mlspeed/fused/cuda/block_sum.cuh"

namespace mlspeed::fused::gpu {

inline constexpr int kRowValues = 8;  // values a thread holds per chunk
inline constexpr int64_t kRowMaxCols = 4 * kRowValues * kBlockSumMaxThreads;

// The first of the 8 values chunk k of this thread holds.
__device__ __forceinline__ int64_t fused_row_start(int k) {
  return kRowValues * (threadIdx.x + static_cast<int64_t>(k) * blockDim.x);
}

// A LayerNorm's statistics of the row the block holds in v (each thread's chunks; values past
// the row's end are left out), `total` this thread's sum of its values: the mean, then the
// variance about it (two block sums, as exact in float32 as LibTorch's Welford).
struct RowMoments {
  float mean, rstd;  // rstd = 1 / sqrt(variance + eps)
};
template <int kChunks>
__device__ __forceinline__ RowMoments fused_row_moments(const float (&v)[kChunks][kRowValues], float total,
                                                        int64_t cols, float eps) {
  const float mean = fused_block_sum(total) / static_cast<float>(cols);
  float squares = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunks; ++k)
#pragma unroll
    for (int i = 0; i < kRowValues; ++i)
      squares += fused_row_start(k) < cols ? (v[k][i] - mean) * (v[k][i] - mean) : 0.0f;
  return {mean, rsqrtf(fused_block_sum(squares) / static_cast<float>(cols) + eps)};
}

inline int fused_row_threads(int64_t cols) {
  const int64_t chunks = cols / kRowValues;
  return static_cast<int>(chunks < kBlockSumMaxThreads ? (chunks + 31) / 32 * 32 : kBlockSumMaxThreads);
}

// f(std::integral_constant<int, kChunks>) with the chunks a thread takes for `cols`: 1, 2 or 4.
template <typename F>
void fused_by_chunks(int64_t cols, F&& f) {
  const int threads = fused_row_threads(cols);
  const int64_t per_thread = (cols / kRowValues + threads - 1) / threads;
  if (per_thread <= 1) f(std::integral_constant<int, 1>{});
  else if (per_thread <= 2) f(std::integral_constant<int, 2>{});
  else f(std::integral_constant<int, 4>{});
}

}  // namespace mlspeed::fused::gpu
