// Inference's GroupNorm (+ a per-channel add before it, + SiLU after it) on channels-last
// activations: x is (N, HW, C) in memory, each group a run of C / groups channels of every row.
// Three kernels, so that every SM has work though a UNet's norm has only N x 32 groups:
// - statistics: a block a run of rows of one sample, each thread a fixed pair of channels (both in
//   one group: C / groups is even) summing its values' differences from a shift and their squares;
//   the block's sums per group, added in a fixed order, go to a partial per (sample, run, group);
// - finalize: a warp a group adds the runs' partials (a fixed shuffle order: the same result on
//   every run) into the group's mean and 1/std;
// - apply: the same blocks as the statistics, each row's values (x + add) * a + b, a = rstd
//   weight and b = bias - mean a, as LibTorch's GroupNorm computes them, rounded to the dtype, then
//   SiLU rounded again, as the two unfused ops round.
// The shift, the group's first value of the sample's first row, keeps the sum of squares from
// cancelling where a group's mean is large against its spread (the sums are float32).
#include <cuda_runtime.h>

#include <algorithm>

#include "mlspeed/fused/cuda/dtype_dispatch.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/cuda/value_pairs.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_load;
using quant::gpu::cuq_round;

constexpr int kGroupNormThreads = 512;  // a block's threads where C / 2 leaves room for several rows
constexpr int64_t kGroupNormBlocks = 512;  // blocks to aim for (an H200 has 132 SMs)
constexpr int kGroupNormMaxChannels = 2048;  // C / 2 threads a row, at most 1024

struct GroupNormShape {
  int pairs, lanes;  // threads a row (C / 2), rows side by side
  int64_t chunks, rows_per_chunk;  // runs of rows a sample, rows a run
};

GroupNormShape group_norm_shape(int64_t n, int64_t hw, int64_t c) {
  GroupNormShape s;
  s.pairs = static_cast<int>(c / 2);
  s.lanes = std::max(1, kGroupNormThreads / s.pairs);
  const int64_t wanted = std::max<int64_t>(1, (kGroupNormBlocks + n - 1) / n);
  const int64_t chunks = std::min<int64_t>(wanted, (hw + s.lanes - 1) / s.lanes);
  s.rows_per_chunk = (hw + chunks - 1) / chunks;
  s.chunks = (hw + s.rows_per_chunk - 1) / s.rows_per_chunk;  // no empty run
  return s;
}

// The norm's input value: x, or x + add rounded to the dtype as the unfused add leaves it.
template <GpuDtype D>
__device__ __forceinline__ float gn_input(float x, bool has_add, float add) {
  return has_add ? cuq_round<D>(x + add) : x;
}

// The shift of (sample n, group g): its first channel's input in the sample's first row.
template <GpuDtype D>
__device__ __forceinline__ float gn_shift(const void* x, const void* add, int64_t n, int64_t hw, int c, int first) {
  const float value = cuq_load<D>(x, n * hw * c + first);
  return gn_input<D>(value, add != nullptr, add ? cuq_load<D>(add, n * c + first) : 0.0f);
}

// The thread's place: its channel pair, its lane (row offset) and its group.
struct GnThread {
  int channel, lane, lanes, group, group_channels;
};

__device__ __forceinline__ GnThread gn_thread(int c, int groups) {
  const int pairs = c / 2;
  GnThread t;
  t.channel = 2 * (static_cast<int>(threadIdx.x) % pairs);
  t.lane = static_cast<int>(threadIdx.x) / pairs;
  t.lanes = static_cast<int>(blockDim.x) / pairs;
  t.group_channels = c / groups;
  t.group = t.channel / t.group_channels;
  return t;
}

template <GpuDtype D>
__global__ void __launch_bounds__(1024) group_norm_stats_kernel(const void* x, const void* add, int64_t hw, int c,
                                                                  int groups, int64_t rows_per_chunk, float* partial) {
  __shared__ float sums[1024], squares[1024];
  const GnThread t = gn_thread(c, groups);
  const int64_t n = blockIdx.y, chunk = blockIdx.x, first = chunk * rows_per_chunk;
  const int64_t last = min(hw, first + rows_per_chunk);
  const float shift = gn_shift<D>(x, add, n, hw, c, t.group * t.group_channels);
  const float2 a = add ? fused_load2<D>(add, n * c + t.channel) : make_float2(0.0f, 0.0f);
  float sum = 0.0f, square = 0.0f;
  for (int64_t r = first + t.lane; r < last; r += t.lanes) {
    const float2 v = fused_load2<D>(x, (n * hw + r) * c + t.channel);
    const float d0 = gn_input<D>(v.x, add, a.x) - shift, d1 = gn_input<D>(v.y, add, a.y) - shift;
    sum += d0 + d1;
    square += d0 * d0 + d1 * d1;
  }
  sums[threadIdx.x] = sum;
  squares[threadIdx.x] = square;
  __syncthreads();
  if (static_cast<int>(threadIdx.x) >= groups) return;
  const int g = threadIdx.x, pairs = c / 2, pair_first = g * t.group_channels / 2;
  float total = 0.0f, total_squares = 0.0f;
  for (int lane = 0; lane < t.lanes; ++lane)
    for (int q = pair_first; q < pair_first + t.group_channels / 2; ++q) {
      total += sums[lane * pairs + q];
      total_squares += squares[lane * pairs + q];
    }
  float* out = partial + ((n * gridDim.x + chunk) * groups + g) * 2;
  out[0] = total;
  out[1] = total_squares;
}

template <GpuDtype D>
__global__ void __launch_bounds__(1024) group_norm_finalize_kernel(const void* x, const void* add, int64_t hw, int c,
                                                                     int groups, int64_t chunks, const float* partial,
                                                                     float eps, float* stats) {
  const int lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  const int64_t n = blockIdx.x;
  const int group_channels = c / groups;
  const float count = static_cast<float>(hw) * static_cast<float>(group_channels);
  for (int g = threadIdx.x >> 5; g < groups; g += warps) {
    float total = 0.0f, total_squares = 0.0f;
    for (int64_t k = lane; k < chunks; k += 32) {
      const float* p = partial + ((n * chunks + k) * groups + g) * 2;
      total += p[0];
      total_squares += p[1];
    }
    for (int o = 16; o > 0; o >>= 1) {
      total += __shfl_xor_sync(0xFFFFFFFFu, total, o);
      total_squares += __shfl_xor_sync(0xFFFFFFFFu, total_squares, o);
    }
    if (lane != 0) continue;
    const float mean = total / count, variance = fmaxf(total_squares / count - mean * mean, 0.0f);
    stats[(n * groups + g) * 2] = gn_shift<D>(x, add, n, hw, c, g * group_channels) + mean;
    stats[(n * groups + g) * 2 + 1] = rsqrtf(variance + eps);
  }
}

template <GpuDtype D, bool kSilu>
__global__ void __launch_bounds__(1024) group_norm_apply_kernel(const void* x, const void* add, const void* weight,
                                                                  const void* bias, int64_t hw, int c, int groups,
                                                                  int64_t rows_per_chunk, const float* stats,
                                                                  void* out, bool fault_silu_zeros) {
  const GnThread t = gn_thread(c, groups);
  const int64_t n = blockIdx.y, first = blockIdx.x * rows_per_chunk, last = min(hw, first + rows_per_chunk);
  const float mean = stats[(n * groups + t.group) * 2], rstd = stats[(n * groups + t.group) * 2 + 1];
  const float2 w = fused_load2<D>(weight, t.channel), b = fused_load2<D>(bias, t.channel);
  const float2 a = add ? fused_load2<D>(add, n * c + t.channel) : make_float2(0.0f, 0.0f);
  const float scale0 = rstd * w.x, scale1 = rstd * w.y;
  const float offset0 = b.x - mean * scale0, offset1 = b.y - mean * scale1;
  for (int64_t r = first + t.lane; r < last; r += t.lanes) {
    const int64_t at = (n * hw + r) * c + t.channel;
    const float2 v = fused_load2<D>(x, at);
    float y0 = cuq_round<D>(gn_input<D>(v.x, add, a.x) * scale0 + offset0);
    float y1 = cuq_round<D>(gn_input<D>(v.y, add, a.y) * scale1 + offset1);
    if constexpr (kSilu) {
      y0 = fault_silu_zeros ? 0.0f : y0 / (1.0f + expf(-y0));  // the verifier's fault: zeros
      y1 = fault_silu_zeros ? 0.0f : y1 / (1.0f + expf(-y1));
    }
    fused_store2<D>(out, at, y0, y1);
  }
}

}  // namespace

bool group_norm_supports(int64_t n, int64_t c, int64_t groups) {
  return n > 0 && n <= 65535 && c > 0 && c <= kGroupNormMaxChannels && groups > 0 && c % groups == 0 &&
         (c / groups) % 2 == 0;
}

int64_t group_norm_workspace_floats(int64_t n, int64_t hw, int64_t c, int64_t groups) {
  return n * groups * 2 * (group_norm_shape(n, hw, c).chunks + 1);
}

cudaError_t group_norm_nhwc(const GroupNormArgs& a, float* workspace, cudaStream_t stream) {
  if (!group_norm_supports(a.n, a.c, a.groups) || a.hw <= 0) return cudaErrorInvalidValue;
  const GroupNormShape s = group_norm_shape(a.n, a.hw, a.c);
  float* partial = workspace;
  float* stats = workspace + a.n * a.groups * 2 * s.chunks;
  const dim3 grid(static_cast<unsigned>(s.chunks), static_cast<unsigned>(a.n));
  const unsigned threads = static_cast<unsigned>(s.pairs * s.lanes);
  const int c = static_cast<int>(a.c), groups = static_cast<int>(a.groups);
  const unsigned finalize_threads = 32u * static_cast<unsigned>(std::min(groups, 32));
  fused_dispatch(a.dtype, [&](auto d) {
    constexpr GpuDtype D = decltype(d)::value;
    group_norm_stats_kernel<D><<<grid, threads, 0, stream>>>(a.x, a.add, a.hw, c, groups, s.rows_per_chunk, partial);
    group_norm_finalize_kernel<D><<<static_cast<unsigned>(a.n), finalize_threads, 0, stream>>>(
        a.x, a.add, a.hw, c, groups, s.chunks, partial, a.eps, stats);
    if (a.silu) {
      group_norm_apply_kernel<D, true><<<grid, threads, 0, stream>>>(a.x, a.add, a.weight, a.bias, a.hw, c, groups,
                                                                      s.rows_per_chunk, stats, a.out,
                                                                      a.fault_silu_zeros);
    } else {
      group_norm_apply_kernel<D, false><<<grid, threads, 0, stream>>>(a.x, a.add, a.weight, a.bias, a.hw, c, groups,
                                                                       s.rows_per_chunk, stats, a.out, false);
    }
  });
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
