// RMSNorm written as the next product's quantised input: one thread block a row. The sum of
// squares in float32 over the block (a warp-shuffle reduction, then one through shared memory),
// then each warp normalises runs of 32 values, rounds them to the dtype (the value
// compat::fused_rms_norm writes) and quantises the run (quant/cuda/gemv_input.cuh): two kernels of
// the unfused step (the norm, then quantize_gemv_input) become one, with the same bytes out.
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/gemv_input.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load;
using quant::gpu::cuq_round;
using quant::gpu::cuq_wait_for_predecessor;
using quant::gpu::cuq_write_input_run;
using quant::gpu::kGemvInputRun;

constexpr int kNormThreads = 1024;

// The sum of `value` over the thread block (every thread gets it).
__device__ float fused_block_sum(float value) {
  __shared__ float partial[kNormThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int o = 16; o > 0; o >>= 1) value += __shfl_xor_sync(0xFFFFFFFFu, value, o);
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) total += partial[w];
  return total;
}

template <GpuDtype D>
__global__ void __launch_bounds__(kNormThreads)
    fused_rms_norm_quantize_kernel(const void* x, const void* weight, int64_t cols, float eps, GemvInput out) {
  const int64_t row = blockIdx.x;
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  float squares = 0.0f;
  for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
    const float v = cuq_load<D>(x, row * cols + c);
    squares += v * v;
  }
  const float inv_rms = rsqrtf(fused_block_sum(squares) / static_cast<float>(cols) + eps);
  const int lane = threadIdx.x & 31;
  const int64_t runs = cols / kGemvInputRun;
  for (int64_t r = threadIdx.x >> 5; r < runs; r += blockDim.x >> 5) {
    const int64_t c = r * kGemvInputRun + lane;
    const float normed = cuq_round<D>(cuq_load<D>(x, row * cols + c) * inv_rms * cuq_load<D>(weight, c));
    cuq_write_input_run(normed, lane, row * runs + r, const_cast<int8_t*>(out.q), const_cast<float*>(out.d),
                        const_cast<int32_t*>(out.sum));
  }
}

template <GpuDtype D>
void fused_launch_rms_norm(const void* x, const void* weight, int64_t batch, int64_t cols, float eps, GemvInput out,
                           cudaStream_t stream) {
  const int64_t runs = cols / kGemvInputRun;
  const int threads = static_cast<int>(runs * 32 < kNormThreads ? runs * 32 : kNormThreads);
  cuq_launch(fused_rms_norm_quantize_kernel<D>, static_cast<unsigned>(batch), threads, stream, x, weight, cols, eps, out);
}

}  // namespace

cudaError_t rms_norm_quantize(const void* x, const void* weight, int64_t batch, int64_t cols, float eps,
                              GpuDtype dtype, GemvInput out, cudaStream_t stream) {
  if (batch <= 0 || cols <= 0 || cols % kGemvInputRun != 0) return cudaErrorInvalidValue;
  switch (dtype) {
    case GpuDtype::f32: fused_launch_rms_norm<GpuDtype::f32>(x, weight, batch, cols, eps, out, stream); break;
    case GpuDtype::f16: fused_launch_rms_norm<GpuDtype::f16>(x, weight, batch, cols, eps, out, stream); break;
    case GpuDtype::bf16: fused_launch_rms_norm<GpuDtype::bf16>(x, weight, batch, cols, eps, out, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
