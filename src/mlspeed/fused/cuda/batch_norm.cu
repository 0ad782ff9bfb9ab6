// Training's BatchNorm, with the residual add and the ReLU after it, on channels-last activations
// (ResNet's bottlenecks: bn1 + ReLU, bn2 + ReLU, bn3 + the shortcut + ReLU): the rows are the
// N x H x W positions, the columns the channels. Each thread keeps a fixed pair of channels and
// walks a run of rows; a block's lanes (rows side by side) are added through shared memory.
// Forward: statistics (partial sums of each run of rows, shifted by the channel's first value so
// that the sum of squares does not cancel), finalize (a block 32 channels: the runs' sums, then
// mean, 1/std, running statistics), apply
// (y = x a + b, + residual, ReLU, each rounded to the dtype where LibTorch's unfused ops round).
// Backward: g = dy where y > 0, its partial sums and those of g xhat and of xhat, finalize (dbias,
// dweight, mean xhat), then dx = weight / std (g - mean(g) - xhat mean(g xhat)) with xhat centred on
// its measured mean (bn_backward_reduce_kernel says why), and the residual's gradient g.
// In the eager step LibTorch runs the statistics, the transform, the add and the ReLU as separate
// kernels both ways (12.5 ms of batch norm and 4.8 ms of adds and clamps a ResNet-50 step at
// b128 on an H200, results/2026-11-30-h200-profile/).
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

constexpr int kBnThreads = 512;      // a block's threads where C / 2 leaves room for several lanes
constexpr int64_t kBnBlocks = 1024;  // runs of rows to aim for
constexpr int kBnMaxChannels = 2048;

// A launch's shape: the row kernels' blocks (a run of rows each) and threads, and the finalize
// kernels' blocks of 32 channels.
struct BnShape {
  int pairs, lanes;
  int64_t chunks, rows_per_chunk;
  unsigned blocks, threads, channel_blocks;
};

BnShape bn_shape(int64_t rows, int64_t c) {
  BnShape s;
  s.pairs = static_cast<int>(c / 2);
  s.lanes = std::max(1, kBnThreads / s.pairs);
  const int64_t chunks = std::min<int64_t>(kBnBlocks, (rows + s.lanes - 1) / s.lanes);
  s.rows_per_chunk = (rows + chunks - 1) / chunks;
  s.chunks = (rows + s.rows_per_chunk - 1) / s.rows_per_chunk;
  s.blocks = static_cast<unsigned>(s.chunks);
  s.threads = static_cast<unsigned>(s.pairs * s.lanes);
  s.channel_blocks = static_cast<unsigned>((c + 31) / 32);
  return s;
}

struct BnThread {
  int channel, lane, lanes, pairs;
};

__device__ __forceinline__ BnThread bn_thread(int c) {
  BnThread t;
  t.pairs = c / 2;
  t.channel = 2 * (static_cast<int>(threadIdx.x) % t.pairs);
  t.lane = static_cast<int>(threadIdx.x) / t.pairs;
  t.lanes = static_cast<int>(blockDim.x) / t.pairs;
  return t;
}

__device__ __forceinline__ float4 bn_add(float4 a, float4 b) {
  return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
}
__device__ __forceinline__ float2 bn_add(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }

// The block's sums of each thread's values (a float4 or a float2) over its lanes, in a fixed order;
// lane 0 of each channel pair gets them.
template <class V>
__device__ __forceinline__ V bn_lane_sums(V mine, const BnThread& t) {
  __shared__ V values[1024];
  values[threadIdx.x] = mine;
  __syncthreads();
  V total = mine;
  if (t.lane == 0)
    for (int lane = 1; lane < t.lanes; ++lane) total = bn_add(total, values[lane * t.pairs + threadIdx.x]);
  return total;
}

// Writes a run's two pairs of sums: first[chunk][c] and second[chunk][c] of `partial`.
__device__ __forceinline__ void bn_write_partial(float* partial, int64_t chunks, int c, int channel, float4 sums) {
  const int64_t at = static_cast<int64_t>(blockIdx.x) * c + channel;
  partial[at] = sums.x, partial[at + 1] = sums.y;
  partial[chunks * c + at] = sums.z, partial[chunks * c + at + 1] = sums.w;
}

template <GpuDtype D>
__global__ void __launch_bounds__(1024) bn_stats_kernel(const void* x, int64_t rows, int c, int64_t rows_per_chunk,
                                                        float* partial) {
  const BnThread t = bn_thread(c);
  const int64_t first = blockIdx.x * rows_per_chunk, last = min(rows, first + rows_per_chunk);
  const float2 shift = fused_load2<D>(x, t.channel);  // row 0
  float4 sums = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  for (int64_t r = first + t.lane; r < last; r += t.lanes) {
    const float2 v = fused_load2<D>(x, r * c + t.channel);
    const float d0 = v.x - shift.x, d1 = v.y - shift.y;
    sums.x += d0, sums.y += d1, sums.z += d0 * d0, sums.w += d1 * d1;
  }
  sums = bn_lane_sums(sums, t);
  if (t.lane == 0) bn_write_partial(partial, gridDim.x, c, t.channel, sums);
}

// The sums of the runs' two partials of channel blockIdx.x * 32 + threadIdx.x: a block of 32 x 32
// threads, each row of threads adding every 32nd run, then the rows added in a fixed order (the
// same result on every run). Valid in row 0's threads.
__device__ __forceinline__ float2 bn_chunk_sums(const float* partial, int64_t chunks, int c) {
  __shared__ float first[32][33], second[32][33];
  __syncthreads();  // a second call's writes wait for the first call's reads
  const int ch = static_cast<int>(blockIdx.x) * 32 + static_cast<int>(threadIdx.x);
  float a = 0.0f, b = 0.0f;
  if (ch < c)
    for (int64_t k = threadIdx.y; k < chunks; k += 32) {
      a += partial[k * c + ch];
      b += partial[(chunks + k) * c + ch];
    }
  first[threadIdx.y][threadIdx.x] = a;
  second[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y == 0)
    for (int r = 1; r < 32; ++r) a += first[r][threadIdx.x], b += second[r][threadIdx.x];
  return make_float2(a, b);
}

// The runs' sums into each channel's mean and 1/std (saved for backward) and the running
// statistics (the unbiased variance, as LibTorch keeps it).
template <GpuDtype D>
__global__ void __launch_bounds__(1024) bn_finalize_kernel(const void* x, int64_t rows, int c, int64_t chunks,
                                                           const float* partial, BatchNormArgs a) {
  const float2 sums = bn_chunk_sums(partial, chunks, c);
  const int ch = static_cast<int>(blockIdx.x) * 32 + static_cast<int>(threadIdx.x);
  if (threadIdx.y != 0 || ch >= c) return;
  const float count = static_cast<float>(rows), shifted_mean = sums.x / count;
  const float variance = fmaxf(sums.y / count - shifted_mean * shifted_mean, 0.0f);
  const float mean = cuq_load<D>(x, ch) + shifted_mean;
  a.save_mean[ch] = mean;
  a.save_invstd[ch] = rsqrtf(variance + a.eps);
  if (!a.running_mean) return;
  a.running_mean[ch] = (1.0f - a.momentum) * a.running_mean[ch] + a.momentum * mean;
  a.running_var[ch] = (1.0f - a.momentum) * a.running_var[ch] + a.momentum * variance * count / (count - 1.0f);
}

template <GpuDtype D>
__device__ __forceinline__ float bn_activate(float y, bool has_residual, float residual, bool relu) {
  y = cuq_round<D>(y);
  if (has_residual) y = cuq_round<D>(y + residual);
  return relu ? fmaxf(y, 0.0f) : y;
}

template <GpuDtype D>
__global__ void __launch_bounds__(1024) bn_apply_kernel(BatchNormArgs a, int c, int64_t rows_per_chunk) {
  const BnThread t = bn_thread(c);
  const int64_t first = blockIdx.x * rows_per_chunk, last = min(a.rows, first + rows_per_chunk);
  const float scale0 = a.save_invstd[t.channel] * a.weight[t.channel];
  const float scale1 = a.save_invstd[t.channel + 1] * a.weight[t.channel + 1];
  const float offset0 = a.bias[t.channel] - a.save_mean[t.channel] * scale0;
  const float offset1 = a.bias[t.channel + 1] - a.save_mean[t.channel + 1] * scale1;
  const bool has_residual = a.residual != nullptr;
  for (int64_t r = first + t.lane; r < last; r += t.lanes) {
    const int64_t at = r * c + t.channel;
    const float2 v = fused_load2<D>(a.x, at);
    const float2 res = has_residual ? fused_load2<D>(a.residual, at) : make_float2(0.0f, 0.0f);
    fused_store2<D>(a.out, at, bn_activate<D>(v.x * scale0 + offset0, has_residual, res.x, a.relu),
                    bn_activate<D>(v.y * scale1 + offset1, has_residual, res.y, a.relu));
  }
}

// The gradient through the ReLU: dy where the output is positive.
template <GpuDtype D>
__device__ __forceinline__ float2 bn_relu_gradient(const BatchNormBackwardArgs& a, int64_t at) {
  const float2 dy = fused_load2<D>(a.d_out, at);
  if (!a.relu) return dy;
  const float2 y = fused_load2<D>(a.out, at);
  return make_float2(y.x > 0.0f ? dy.x : 0.0f, y.y > 0.0f ? dy.y : 0.0f);
}

// Backward's sums a run: of g and of g xhat (first and second), and of xhat itself (third). xhat is
// centred on the saved mean, which float32 rounds to a unit of the mean's size: where the mean
// dwarfs the spread (a stem's activations on images around 0.5) that leaves every xhat of a channel
// off by one constant, the sum of d_x off zero by N times it, and the weight gradient of the layer
// before (d_x times its inputs, summed over N) off by a constant a channel. The third sum measures
// that offset, and finalize and d_x take it out.
template <GpuDtype D>
__global__ void __launch_bounds__(1024) bn_backward_reduce_kernel(BatchNormBackwardArgs a, int c,
                                                                  int64_t rows_per_chunk, float* partial) {
  const BnThread t = bn_thread(c);
  const int64_t first = blockIdx.x * rows_per_chunk, last = min(a.rows, first + rows_per_chunk);
  const float mean0 = a.save_mean[t.channel], mean1 = a.save_mean[t.channel + 1];
  const float invstd0 = a.save_invstd[t.channel], invstd1 = a.save_invstd[t.channel + 1];
  float4 sums = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  float2 xhat_sums = make_float2(0.0f, 0.0f);
  for (int64_t r = first + t.lane; r < last; r += t.lanes) {
    const int64_t at = r * c + t.channel;
    const float2 g = bn_relu_gradient<D>(a, at), v = fused_load2<D>(a.x, at);
    const float xhat0 = (v.x - mean0) * invstd0, xhat1 = (v.y - mean1) * invstd1;
    sums.x += g.x, sums.y += g.y, sums.z += g.x * xhat0, sums.w += g.y * xhat1;
    xhat_sums.x += xhat0, xhat_sums.y += xhat1;
  }
  sums = bn_lane_sums(sums, t);
  xhat_sums = bn_lane_sums(xhat_sums, t);
  if (t.lane != 0) return;
  bn_write_partial(partial, gridDim.x, c, t.channel, sums);
  const int64_t third = 2 * static_cast<int64_t>(gridDim.x) * c + static_cast<int64_t>(blockIdx.x) * c + t.channel;
  partial[third] = xhat_sums.x, partial[third + 1] = xhat_sums.y;
}

// d_bias = sum g; d_weight = sum g (xhat - mean xhat); xhat_mean for d_x.
__global__ void __launch_bounds__(1024) bn_backward_finalize_kernel(int64_t rows, int c, int64_t chunks,
                                                                    const float* partial, float* d_weight,
                                                                    float* d_bias, float* xhat_mean) {
  const float2 g_sums = bn_chunk_sums(partial, chunks, c);
  const float2 xhat_sums = bn_chunk_sums(partial + chunks * c, chunks, c);  // (g xhat, xhat)
  const int ch = static_cast<int>(blockIdx.x) * 32 + static_cast<int>(threadIdx.x);
  if (threadIdx.y != 0 || ch >= c) return;
  const float offset = xhat_sums.y / static_cast<float>(rows);
  d_bias[ch] = g_sums.x;
  d_weight[ch] = g_sums.y - offset * g_sums.x;
  xhat_mean[ch] = offset;
}

template <GpuDtype D>
__global__ void __launch_bounds__(1024) bn_backward_dx_kernel(BatchNormBackwardArgs a, int c, int64_t rows_per_chunk,
                                                              const float* xhat_mean) {
  const BnThread t = bn_thread(c);
  const int64_t first = blockIdx.x * rows_per_chunk, last = min(a.rows, first + rows_per_chunk);
  const float count = static_cast<float>(a.rows);
  float mean[2], invstd[2], k[2], g_mean[2], gx_mean[2], offset[2];
  for (int i = 0; i < 2; ++i) {
    mean[i] = a.save_mean[t.channel + i], invstd[i] = a.save_invstd[t.channel + i];
    k[i] = a.weight[t.channel + i] * invstd[i];
    g_mean[i] = a.d_bias[t.channel + i] / count, gx_mean[i] = a.d_weight[t.channel + i] / count;
    offset[i] = xhat_mean[t.channel + i];
    if (a.fault_constant_statistics) g_mean[i] = gx_mean[i] = 0.0f;  // the verifier's fault
  }
  for (int64_t r = first + t.lane; r < last; r += t.lanes) {
    const int64_t at = r * c + t.channel;
    const float2 g = bn_relu_gradient<D>(a, at), v = fused_load2<D>(a.x, at);
    const float xhat0 = (v.x - mean[0]) * invstd[0] - offset[0], xhat1 = (v.y - mean[1]) * invstd[1] - offset[1];
    fused_store2<D>(a.d_x, at, k[0] * (g.x - g_mean[0] - xhat0 * gx_mean[0]),
                    k[1] * (g.y - g_mean[1] - xhat1 * gx_mean[1]));
    if (a.d_residual) fused_store2<D>(a.d_residual, at, g.x, g.y);
  }
}

}  // namespace

bool batch_norm_supports(int64_t c) { return c > 0 && c % 2 == 0 && c <= kBnMaxChannels; }

// Forward: two sums a run and channel; backward: three, and each channel's mean xhat.
int64_t batch_norm_workspace_floats(int64_t rows, int64_t c) { return (3 * bn_shape(rows, c).chunks + 1) * c; }

cudaError_t batch_norm_forward(const BatchNormArgs& a, float* workspace, cudaStream_t stream) {
  if (!batch_norm_supports(a.c) || a.rows < 2) return cudaErrorInvalidValue;
  const BnShape s = bn_shape(a.rows, a.c);
  const int c = static_cast<int>(a.c);
  fused_dispatch(a.dtype, [&](auto d) {
    constexpr GpuDtype D = decltype(d)::value;
    bn_stats_kernel<D><<<s.blocks, s.threads, 0, stream>>>(a.x, a.rows, c, s.rows_per_chunk, workspace);
    bn_finalize_kernel<D><<<s.channel_blocks, dim3(32, 32), 0, stream>>>(a.x, a.rows, c, s.chunks, workspace, a);
    bn_apply_kernel<D><<<s.blocks, s.threads, 0, stream>>>(a, c, s.rows_per_chunk);
  });
  return cudaGetLastError();
}

cudaError_t batch_norm_backward(const BatchNormBackwardArgs& a, float* workspace, cudaStream_t stream) {
  if (!batch_norm_supports(a.c) || a.rows < 2) return cudaErrorInvalidValue;
  const BnShape s = bn_shape(a.rows, a.c);
  const int c = static_cast<int>(a.c);
  fused_dispatch(a.dtype, [&](auto d) {
    constexpr GpuDtype D = decltype(d)::value;
    bn_backward_reduce_kernel<D><<<s.blocks, s.threads, 0, stream>>>(a, c, s.rows_per_chunk, workspace);
    float* xhat_mean = workspace + 3 * s.chunks * c;
    bn_backward_finalize_kernel<<<s.channel_blocks, dim3(32, 32), 0, stream>>>(a.rows, c, s.chunks, workspace,
                                                                                a.d_weight, a.d_bias, xhat_mean);
    bn_backward_dx_kernel<D><<<s.blocks, s.threads, 0, stream>>>(a, c, s.rows_per_chunk, xhat_mean);
  });
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
