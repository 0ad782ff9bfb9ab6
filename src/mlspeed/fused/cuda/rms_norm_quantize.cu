// RMSNorm written as the next product's quantised input: one thread block a row, each thread 8
// consecutive values per chunk of the row, loaded once with 16-byte loads and kept in registers.
// The norm's gains depend on no kernel before this one (quant/cuda/launch.cuh), so they are loaded
// before the wait; then the row, the sum of squares in float32 over the block (a warp-shuffle
// reduction, then one through shared memory), and each thread normalises its values, rounds them
// to the dtype (the value compat::fused_rms_norm writes), and 4 lanes quantise a run of 32 (quant/
// cuda/gemv_input.cuh): two kernels of the unfused step (the norm, then quantize_gemv_input)
// become one, with the same bytes out. The row is read from memory once, in one round trip: its
// first design read it twice, a warp a run at a time, and took 5.7 us of a Llama-2-7B decode
// step's ~75 us a layer on an H200, twice a layer.
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/block_sum.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/cuda/row_blocks.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/gemv_input.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load8;
using quant::gpu::cuq_round;
using quant::gpu::cuq_wait_for_predecessor;
using quant::gpu::cuq_write_input_run8;
using quant::gpu::kGemvInputRun;

constexpr int kNormMaxThreads = kBlockSumMaxThreads;
constexpr int kNormValues = kRowValues;

// kChunks chunks of 8 values a thread: chunk k of thread t holds values 8 (t + k blockDim.x)...
// A thread past the row's end holds zeros and takes part in the shuffles, writing nothing.
template <GpuDtype D, int kChunks>
__global__ void __launch_bounds__(kNormMaxThreads)
    fused_rms_norm_quantize_kernel(const void* x, const void* weight, int64_t cols, float eps, float gain_offset,
                                   GemvInput out) {
  const int64_t row = blockIdx.x;
  float gain[kChunks][kNormValues] = {}, v[kChunks][kNormValues] = {};
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int64_t at = fused_row_start(k);
    if (at < cols) cuq_load8<D>(weight, at, gain[k]);
#pragma unroll
    for (int i = 0; i < kNormValues; ++i) gain[k][i] += gain_offset;  // 0, or 1 under the verifier's fault
  }
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  float squares = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int64_t at = fused_row_start(k);
    if (at < cols) cuq_load8<D>(x, row * cols + at, v[k]);
#pragma unroll
    for (int i = 0; i < kNormValues; ++i) squares += v[k][i] * v[k][i];
  }
  const float inv_rms = rsqrtf(fused_block_sum(squares) / static_cast<float>(cols) + eps);
  const int64_t runs = cols / kGemvInputRun;
#pragma unroll
  for (int k = 0; k < kChunks; ++k) {
    const int64_t at = fused_row_start(k);
    float normed[kNormValues];
#pragma unroll
    for (int i = 0; i < kNormValues; ++i) normed[i] = cuq_round<D>(v[k][i] * inv_rms * gain[k][i]);
    // Each run's 4 chunks lie in 4 consecutive threads (blockDim.x is a multiple of 32).
    if (k * blockDim.x < cols / kNormValues)  // the same for the whole block: the shuffles see every lane
      cuq_write_input_run8(normed, at < cols ? row * runs + at / kGemvInputRun : -1, const_cast<int8_t*>(out.q),
                           const_cast<float*>(out.d), const_cast<int32_t*>(out.sum));
  }
}

template <GpuDtype D>
void fused_launch_rms_norm(const void* x, const void* weight, int64_t batch, int64_t cols, float eps,
                           float gain_offset, GemvInput out, cudaStream_t stream) {
  fused_by_chunks(cols, [&](auto chunks) {
    cuq_launch(fused_rms_norm_quantize_kernel<D, decltype(chunks)::value>, static_cast<unsigned>(batch),
               fused_row_threads(cols), stream, x, weight, cols, eps, gain_offset, out);
  });
}

}  // namespace

cudaError_t rms_norm_quantize(const void* x, const void* weight, int64_t batch, int64_t cols, float eps,
                              GpuDtype dtype, GemvInput out, cudaStream_t stream, bool gain_offset) {
  if (batch <= 0 || cols <= 0 || cols % kGemvInputRun != 0 || cols > kRowMaxCols)
    return cudaErrorInvalidValue;
  const float offset = gain_offset ? 1.0f : 0.0f;
  switch (dtype) {
    case GpuDtype::f32: fused_launch_rms_norm<GpuDtype::f32>(x, weight, batch, cols, eps, offset, out, stream); break;
    case GpuDtype::f16: fused_launch_rms_norm<GpuDtype::f16>(x, weight, batch, cols, eps, offset, out, stream); break;
    case GpuDtype::bf16: fused_launch_rms_norm<GpuDtype::bf16>(x, weight, batch, cols, eps, offset, out, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
