// GELU (tanh approximation, Hugging Face's "gelu_new") of a product plus its bias, 8 values a
// thread with 16-byte loads: the MLP's first projection as cuBLAS's product without its bias,
// then this one kernel, where the unfused step runs the product with its bias and GELU as two
// (three where cuBLAS takes no bias for one row). Rounded where the unfused ops round: the biased
// product, then GELU, computed in float32 as LibTorch's CUDA kernel computes it.
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/dtype_dispatch.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
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

constexpr int kValues = 8;
constexpr int kThreads = 256;

template <GpuDtype D>
__global__ void __launch_bounds__(kThreads)
    fused_bias_gelu_kernel(const void* x, const void* bias, float bias_times, int64_t batch, int64_t cols,
                           void* out) {
  const int64_t chunk = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t at = chunk * kValues, col = at % cols;
  float b[kValues] = {};
  if (at < batch * cols) cuq_load8<D>(bias, col, b);  // a parameter: no kernel of the step writes it
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if (at >= batch * cols) return;
  float v[kValues];
  cuq_load8<D>(x, at, v);
  constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
  constexpr float kKappa = 0.044715f;
#pragma unroll
  for (int i = 0; i < kValues; ++i) {
    const float u = cuq_round<D>(v[i] + bias_times * b[i]);  // bias_times: 1, or 2 under the verifier's fault
    v[i] = 0.5f * u * (1.0f + tanhf(kBeta * (u + kKappa * u * u * u)));
  }
  cuq_store8<D>(out, at, v);
}

}  // namespace

cudaError_t bias_gelu(const void* x, const void* bias, int64_t batch, int64_t cols, GpuDtype dtype, void* out,
                      cudaStream_t stream, bool bias_doubled) {
  if (batch <= 0 || cols <= 0 || cols % kValues != 0) return cudaErrorInvalidValue;
  const int64_t chunks = batch * cols / kValues;
  const auto grid = static_cast<unsigned>((chunks + kThreads - 1) / kThreads);
  fused_dispatch(dtype, [&](auto d) {
    cuq_launch(fused_bias_gelu_kernel<decltype(d)::value>, grid, kThreads, stream, x, bias, bias_doubled ? 2.0f : 1.0f,
               batch, cols, out);
  });
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
