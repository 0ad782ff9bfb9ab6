// The residual add of a GPT-2 block's projection and the LayerNorm after it, one thread block a
// row: h += y + bias (the projection's output and its bias), then out = LayerNorm(h) gamma + beta.
// The unfused decode step runs the bias in the product, the add and the norm as three kernels
// (and the norm reads h again); here the projection is cuBLAS's product without its bias, and each
// thread keeps 8 consecutive values per chunk of the row in registers, loaded with 16-byte loads:
// the mean, then the variance about it (two block sums, as exact as LibTorch's Welford in float32),
// then the normalised values. Rounded where the unfused ops round: y + bias, the sum, the norm.
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/block_sum.cuh"
#include "mlspeed/fused/cuda/dtype_dispatch.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/cuda/row_blocks.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load8;
using quant::gpu::cuq_round;
using quant::gpu::cuq_store8;
using quant::gpu::cuq_wait_for_predecessor;

constexpr int kValues = kRowValues;

// kChunks chunks of 8 values a thread: chunk k of thread t holds values 8 (t + k blockDim.x)...
// A thread past the row's end holds zeros, adds nothing to the sums and writes nothing.
template <GpuDtype D, int kChunks>
__global__ void __launch_bounds__(kBlockSumMaxThreads)
    fused_add_layer_norm_kernel(void* h, const void* y, const void* bias, const void* gamma, const void* beta,
                                int64_t cols, float eps, void* out) {
  const int64_t row = blockIdx.x;
  float b[kChunks][kValues] = {}, g[kChunks][kValues] = {}, s[kChunks][kValues] = {}, v[kChunks][kValues] = {};
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {  // the parameters: no kernel of the step writes them
    if (fused_row_start(k) >= cols) continue;
    if (bias) cuq_load8<D>(bias, fused_row_start(k), b[k]);
    cuq_load8<D>(gamma, fused_row_start(k), g[k]);
    cuq_load8<D>(beta, fused_row_start(k), s[k]);
  }
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  float sum = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    if (fused_row_start(k) >= cols) continue;
    float residual[kValues], update[kValues];
    cuq_load8<D>(h, row * cols + fused_row_start(k), residual);
    cuq_load8<D>(y, row * cols + fused_row_start(k), update);
#pragma unroll
    for (int i = 0; i < kValues; ++i) {
      v[k][i] = cuq_round<D>(residual[i] + cuq_round<D>(update[i] + b[k][i]));
      sum += v[k][i];
    }
    cuq_store8<D>(h, row * cols + fused_row_start(k), v[k]);
  }
  const auto [mean, inv_std] = fused_row_moments<kChunks>(v, sum, cols, eps);
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    if (fused_row_start(k) >= cols) continue;
    float normed[kValues];
#pragma unroll
    for (int i = 0; i < kValues; ++i) normed[i] = (v[k][i] - mean) * inv_std * g[k][i] + s[k][i];
    cuq_store8<D>(out, row * cols + fused_row_start(k), normed);
  }
}

}  // namespace

cudaError_t add_layer_norm(void* h, const void* y, const void* bias, const void* gamma, const void* beta,
                           int64_t batch, int64_t cols, float eps, GpuDtype dtype, void* out, cudaStream_t stream) {
  if (batch <= 0 || cols <= 0 || cols % kValues != 0 || cols > kRowMaxCols)
    return cudaErrorInvalidValue;
  fused_dispatch(dtype, [&](auto d) {
    fused_by_chunks(cols, [&](auto chunks) {
      cuq_launch(fused_add_layer_norm_kernel<decltype(d)::value, decltype(chunks)::value>,
                 static_cast<unsigned>(batch), fused_row_threads(cols), stream, h, y, bias, gamma, beta, cols, eps,
                 out);
    });
  });
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
