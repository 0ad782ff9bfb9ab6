// Training's residual add and the LayerNorm after it, forward and backward, for a transformer
// whose residual stream is float32 (the master weights' dtype under autocast) and whose branches
// and matrix products are float32, float16 or bfloat16. Under autocast the unfused step adds the
// branch into the stream (a float32 add), runs the LayerNorm in float32, and casts its output for
// the next product: three kernels forward, and backward the norm's two (input; gamma and beta)
// plus the casts and the add of the two gradients that reach the stream. In an H200 profile of
// GPT-2's training step those were 9.7 of its 33.8 ms (results/2026-11-30-h200-profile/ml/).
//
// beta may be null (a norm without bias).
// Forward, one thread block a row, 8 values a thread per chunk held in registers: sum = x + y
// (stored: the stream goes on), then the mean and the variance about it (two block sums), the
// normalised row written in the branch's dtype (what the next product takes), and the row's mean
// and 1/std kept for backward.
// Backward, a block a run of rows, each thread keeping its 8 columns' partial sums of dgamma and
// dbeta across the run: per row, g = dout gamma, dsum = rstd (g - mean(g) - xhat mean(g xhat)) plus
// the stream's own gradient; written as the stream's gradient (float32) and the branch's (its
// dtype). A second kernel adds the runs' partial sums.
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/block_sum.cuh"
#include "mlspeed/fused/cuda/dtype_dispatch.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/cuda/row_blocks.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_load8;
using quant::gpu::cuq_store8;

constexpr int kValues = kRowValues;
constexpr int kRowsPerRun = 8;  // rows a backward block takes: partial sums of (rows / 8) x cols floats

template <GpuDtype Y, int kChunks>
__global__ void __launch_bounds__(kBlockSumMaxThreads)
    fused_residual_layer_norm_forward_kernel(const float* x, const void* y, const float* gamma, const float* beta,
                                             int64_t cols, float eps, float* sum, void* out, float* mean_out,
                                             float* rstd_out) {
  const int64_t row = blockIdx.x;
  float v[kChunks][kValues] = {};
  float total = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int64_t at = fused_row_start(k);
    if (at >= cols) continue;
    float branch[kValues];
    cuq_load8<GpuDtype::f32>(x, row * cols + at, v[k]);
    cuq_load8<Y>(y, row * cols + at, branch);
#pragma unroll
    for (int i = 0; i < kValues; ++i) {
      v[k][i] += branch[i];
      total += v[k][i];
    }
    cuq_store8<GpuDtype::f32>(sum, row * cols + at, v[k]);
  }
  const auto [mean, rstd] = fused_row_moments<kChunks>(v, total, cols, eps);
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int64_t at = fused_row_start(k);
    if (at >= cols) continue;
    float g[kValues], b[kValues] = {}, normed[kValues];
    cuq_load8<GpuDtype::f32>(gamma, at, g);
    if (beta) cuq_load8<GpuDtype::f32>(beta, at, b);
#pragma unroll
    for (int i = 0; i < kValues; ++i) normed[i] = (v[k][i] - mean) * rstd * g[i] + b[i];
    cuq_store8<Y>(out, row * cols + at, normed);
  }
  if (threadIdx.x == 0) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}

// d_sum (the stream's own gradient) may be null: the stream ends at this norm.
template <GpuDtype Y, int kChunks>
__global__ void __launch_bounds__(kBlockSumMaxThreads)
    fused_residual_layer_norm_backward_kernel(const float* sum, const float* mean, const float* rstd,
                                              const float* gamma, const void* d_out, const float* d_sum,
                                              int64_t rows, int64_t cols, float* d_x, void* d_y,
                                              float* partial_gamma, float* partial_beta, bool fault_odd_rows) {
  float g[kChunks][kValues] = {}, dgamma[kChunks][kValues] = {}, dbeta[kChunks][kValues] = {};
#pragma unroll
  for (int k = 0; k < kChunks; ++k)
    if (fused_row_start(k) < cols) cuq_load8<GpuDtype::f32>(gamma, fused_row_start(k), g[k]);
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kRowsPerRun;
  for (int64_t row = first; row < min(first + kRowsPerRun, rows); ++row) {  // the same for the whole block
    const float m = mean[row], r = rstd[row];
    const float norm_part = fault_odd_rows && row % 2 == 1 ? 0.0f : r;  // the verifier's fault: none on odd rows
    float xhat[kChunks][kValues] = {}, dg[kChunks][kValues] = {};
    float a = 0.0f, b = 0.0f;
#pragma unroll
    for (int k = 0; k < kChunks; ++k) {
      const int64_t at = fused_row_start(k);
      if (at >= cols) continue;
      float s[kValues], dout[kValues];
      cuq_load8<GpuDtype::f32>(sum, row * cols + at, s);
      cuq_load8<Y>(d_out, row * cols + at, dout);
#pragma unroll
      for (int i = 0; i < kValues; ++i) {
        xhat[k][i] = (s[i] - m) * r;
        dg[k][i] = dout[i] * g[k][i];
        a += dg[k][i];
        b += dg[k][i] * xhat[k][i];
        dgamma[k][i] += dout[i] * xhat[k][i];
        dbeta[k][i] += dout[i];
      }
    }
    a = fused_block_sum(a) / static_cast<float>(cols);
    b = fused_block_sum(b) / static_cast<float>(cols);
#pragma unroll
    for (int k = 0; k < kChunks; ++k) {
      const int64_t at = fused_row_start(k);
      if (at >= cols) continue;
      float stream[kValues] = {}, dx[kValues];
      if (d_sum) cuq_load8<GpuDtype::f32>(d_sum, row * cols + at, stream);
#pragma unroll
      for (int i = 0; i < kValues; ++i) dx[i] = norm_part * (dg[k][i] - a - xhat[k][i] * b) + stream[i];
      cuq_store8<GpuDtype::f32>(d_x, row * cols + at, dx);
      cuq_store8<Y>(d_y, row * cols + at, dx);
    }
  }
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int64_t at = fused_row_start(k);
    if (at >= cols) continue;
    cuq_store8<GpuDtype::f32>(partial_gamma, blockIdx.x * cols + at, dgamma[k]);
    cuq_store8<GpuDtype::f32>(partial_beta, blockIdx.x * cols + at, dbeta[k]);
  }
}

// out[c] = sum over p of partial[p][c]: a block 32 columns wide, its 32 rows of threads each
// adding every 32nd part, then the rows added through shared memory.
__global__ void __launch_bounds__(1024) fused_sum_parts_kernel(const float* partial, int64_t parts, int64_t cols,
                                                                float* out) {
  __shared__ float column_sums[32][33];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  float total = 0.0f;
  if (c < cols)
    for (int64_t p = threadIdx.y; p < parts; p += 32) total += partial[p * cols + c];
  column_sums[threadIdx.y][threadIdx.x] = total;
  __syncthreads();
  if (threadIdx.y != 0 || c >= cols) return;
  for (int r = 1; r < 32; ++r) total += column_sums[r][threadIdx.x];
  out[c] = total;
}

}  // namespace

int64_t residual_layer_norm_parts(int64_t rows) { return (rows + kRowsPerRun - 1) / kRowsPerRun; }

cudaError_t residual_layer_norm_forward(const ResidualLayerNormArgs& a, cudaStream_t stream) {
  if (a.rows <= 0 || a.cols <= 0 || a.cols % kValues != 0 || a.cols > kRowMaxCols)
    return cudaErrorInvalidValue;
  fused_dispatch(a.dtype, [&](auto d) {
    fused_by_chunks(a.cols, [&](auto chunks) {
      fused_residual_layer_norm_forward_kernel<decltype(d)::value, decltype(chunks)::value>
          <<<static_cast<unsigned>(a.rows), fused_row_threads(a.cols), 0, stream>>>(
              a.x, a.y, a.gamma, a.beta, a.cols, a.eps, a.sum, a.out, a.mean, a.rstd);
    });
  });
  return cudaGetLastError();
}

cudaError_t residual_layer_norm_backward(const ResidualLayerNormArgs& a, const void* d_out, const float* d_sum,
                                         float* d_x, void* d_y, float* partial, float* d_gamma, float* d_beta,
                                         cudaStream_t stream) {
  if (a.rows <= 0 || a.cols <= 0 || a.cols % kValues != 0 || a.cols > kRowMaxCols)
    return cudaErrorInvalidValue;
  const int64_t parts = residual_layer_norm_parts(a.rows);
  float *partial_gamma = partial, *partial_beta = partial + parts * a.cols;
  fused_dispatch(a.dtype, [&](auto d) {
    fused_by_chunks(a.cols, [&](auto chunks) {
      fused_residual_layer_norm_backward_kernel<decltype(d)::value, decltype(chunks)::value>
          <<<static_cast<unsigned>(parts), fused_row_threads(a.cols), 0, stream>>>(
              a.sum, a.mean, a.rstd, a.gamma, d_out, d_sum, a.rows, a.cols, d_x, d_y, partial_gamma, partial_beta,
              a.fault_odd_rows);
    });
  });
  const unsigned column_blocks = static_cast<unsigned>((a.cols + 31) / 32);
  fused_sum_parts_kernel<<<column_blocks, dim3(32, 32), 0, stream>>>(partial_gamma, parts, a.cols, d_gamma);
  fused_sum_parts_kernel<<<column_blocks, dim3(32, 32), 0, stream>>>(partial_beta, parts, a.cols, d_beta);
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
