// Cross-entropy over a language model's logits in their own dtype (bfloat16 under autocast), never
// a float32 copy of them. The unfused loss under autocast casts the (N, V) logits to float32,
// runs log-softmax over them, gathers the targets, and backward writes a float32 gradient of the
// log-softmax and casts it back: about fifteen bytes moved per logit. Here forward reads each logit
// once (one thread block a row: an online maximum and sum of exponentials, 8 values a thread a
// time with 16-byte loads) and keeps only the row's log-sum-exp; backward reads each logit once
// more and writes its gradient, (softmax - one-hot) times the loss's gradient over the count, in
// the logits' dtype: four to six bytes per logit. llm.c and Liger-Kernel fuse it the same way.
#include <cuda_runtime.h>

#include <cfloat>
#include <algorithm>
#include <cmath>

#include "mlspeed/fused/cuda/dtype_dispatch.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_load;
using quant::gpu::cuq_load8;
using quant::gpu::cuq_store8;

constexpr int kThreads = 512;
constexpr int kValues = 8;

// (m, s): the running maximum and the sum of exp(x - m). Combines two such pairs; -inf maxima
// (nothing seen yet, or only -inf logits: a padded vocabulary's columns) add nothing.
__device__ __forceinline__ void fused_merge(float& m, float& s, float other_m, float other_s) {
  const float top = fmaxf(m, other_m);
  if (top == -INFINITY) return;
  s = (m == -INFINITY ? 0.0f : s * expf(m - top)) + (other_m == -INFINITY ? 0.0f : other_s * expf(other_m - top));
  m = top;
}

// The row's log-sum-exp, every thread of the block getting it.
template <GpuDtype D>
__device__ float fused_row_logsumexp(const void* logits, int64_t row, int64_t vocab) {
  float m = -INFINITY, s = 0.0f;
  for (int64_t at = kValues * static_cast<int64_t>(threadIdx.x); at < vocab; at += kValues * blockDim.x) {
    float v[kValues];
    cuq_load8<D>(logits, row * vocab + at, v);
    float chunk_max = v[0];
#pragma unroll
    for (int i = 1; i < kValues; ++i) chunk_max = fmaxf(chunk_max, v[i]);
    if (chunk_max == -INFINITY) continue;
    float chunk_sum = 0.0f;
#pragma unroll
    for (int i = 0; i < kValues; ++i) chunk_sum += expf(v[i] - chunk_max);
    fused_merge(m, s, chunk_max, chunk_sum);
  }
  for (int o = 16; o > 0; o >>= 1)
    fused_merge(m, s, __shfl_xor_sync(0xFFFFFFFFu, m, o), __shfl_xor_sync(0xFFFFFFFFu, s, o));
  __shared__ float warp_m[kThreads / 32], warp_s[kThreads / 32];
  if ((threadIdx.x & 31) == 0) warp_m[threadIdx.x >> 5] = m, warp_s[threadIdx.x >> 5] = s;
  __syncthreads();
  m = -INFINITY, s = 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) fused_merge(m, s, warp_m[w], warp_s[w]);
  return m + logf(s);
}

// The row's target; under the verifier's fault (fused/kernel_fault.h, backward only) the next
// class.
__device__ __forceinline__ int64_t fused_target(const int64_t* targets, int64_t row, int64_t ignore_index,
                                                int64_t vocab, bool fault_next_class) {
  const int64_t t = targets[row];
  return fault_next_class && t != ignore_index && t >= 0 && t < vocab ? (t + 1) % vocab : t;
}

template <GpuDtype D>
__global__ void __launch_bounds__(kThreads)
    fused_cross_entropy_forward_kernel(const void* logits, const int64_t* targets, int64_t vocab,
                                       int64_t ignore_index, float* row_loss, float* logsumexp) {
  const int64_t row = blockIdx.x;
  const float lse = fused_row_logsumexp<D>(logits, row, vocab);
  if (threadIdx.x != 0) return;
  const int64_t t = targets[row];
  logsumexp[row] = lse;
  if (t == ignore_index) {
    row_loss[row] = 0.0f;
  } else if (t < 0 || t >= vocab) {
    __trap();  // LibTorch's "Target out of bounds" assertion, on the device
  } else {
    row_loss[row] = lse - cuq_load<D>(logits, row * vocab + t);
  }
}

// Block (row, part) writes the gradient of `part` of the row's chunks of 8.
template <GpuDtype D>
__global__ void __launch_bounds__(kThreads)
    fused_cross_entropy_backward_kernel(const void* logits, const int64_t* targets, const float* logsumexp,
                                        const float* scale, int64_t vocab, int64_t ignore_index, void* grad,
                                        bool fault_next_class) {
  const int64_t row = blockIdx.x;
  const int64_t t = fused_target(targets, row, ignore_index, vocab, fault_next_class);
  const float lse = logsumexp[row], k = t == ignore_index ? 0.0f : *scale;
  const int64_t stride = kValues * static_cast<int64_t>(blockDim.x) * gridDim.y;
  for (int64_t at = kValues * (static_cast<int64_t>(blockIdx.y) * blockDim.x + threadIdx.x); at < vocab; at += stride) {
    float v[kValues];
    cuq_load8<D>(logits, row * vocab + at, v);
#pragma unroll
    for (int i = 0; i < kValues; ++i) v[i] = (expf(v[i] - lse) - (at + i == t ? 1.0f : 0.0f)) * k;
    cuq_store8<D>(grad, row * vocab + at, v);
  }
}

}  // namespace

cudaError_t cross_entropy_forward(const void* logits, const int64_t* targets, int64_t rows, int64_t vocab,
                                  int64_t ignore_index, GpuDtype dtype, float* row_loss, float* logsumexp,
                                  cudaStream_t stream) {
  if (rows <= 0 || vocab <= 0 || vocab % kValues != 0) return cudaErrorInvalidValue;
  const auto grid = static_cast<unsigned>(rows);
  fused_dispatch(dtype, [&](auto d) {
    fused_cross_entropy_forward_kernel<decltype(d)::value>
        <<<grid, kThreads, 0, stream>>>(logits, targets, vocab, ignore_index, row_loss, logsumexp);
  });
  return cudaGetLastError();
}

cudaError_t cross_entropy_backward(const void* logits, const int64_t* targets, const float* logsumexp,
                                   const float* scale, int64_t rows, int64_t vocab, int64_t ignore_index,
                                   GpuDtype dtype, void* grad, cudaStream_t stream, bool fault_next_class) {
  if (rows <= 0 || vocab <= 0 || vocab % kValues != 0) return cudaErrorInvalidValue;
  // Rows of GPT-2's 50,304 logits take 13 chunks of 8 a thread in one block; a few rows (nanoGPT's
  // tiny vocabulary aside) would leave the GPU idle, so a short batch splits each row.
  const int64_t per_pass = kValues * kThreads;
  const int64_t parts = rows >= 1024 ? 1 : std::min<int64_t>(8, (vocab + per_pass - 1) / per_pass);
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(parts));
  fused_dispatch(dtype, [&](auto d) {
    fused_cross_entropy_backward_kernel<decltype(d)::value>
        <<<grid, kThreads, 0, stream>>>(logits, targets, logsumexp, scale, vocab, ignore_index, grad,
                                        fault_next_class);
  });
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
