// The gated MLP's activation, silu(gate) * up, one warp a run of 32 values: written as down_proj's
// quantised input, or as values of the dtype for a product of 16-bit weights. The unfused step
// runs silu, the product (and quantize_gemv_input) as two (three) kernels; the rounding is theirs
// (silu rounded to the dtype, then the product), so the values out are the same.
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/cuda/fused_out.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load;
using quant::gpu::cuq_round;
using quant::gpu::cuq_wait_for_predecessor;
using quant::gpu::kGemvInputRun;

template <GpuDtype D>
__global__ void __launch_bounds__(256)
    fused_silu_mul_kernel(const void* gate_up, int64_t batch, int64_t ffn, FusedOut out, bool gate_up_swapped) {
  const int64_t run = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  const int64_t runs_per_row = ffn / kGemvInputRun;
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if (run >= batch * runs_per_row) return;  // the same for the whole warp
  const int64_t row = run / runs_per_row, c = (run % runs_per_row) * kGemvInputRun + lane;
  const int64_t gate_at = row * 2 * ffn + c + (gate_up_swapped ? ffn : 0);  // swapped: the verifier's fault
  const int64_t up_at = row * 2 * ffn + c + (gate_up_swapped ? 0 : ffn);
  const float gate = cuq_load<D>(gate_up, gate_at), up = cuq_load<D>(gate_up, up_at);
  const float silu = cuq_round<D>(gate / (1.0f + expf(-gate)));  // LibTorch's silu, in float32
  fused_write_run<D>(out, cuq_round<D>(silu * up), lane, run);
}

}  // namespace

cudaError_t silu_mul(const void* gate_up, int64_t batch, int64_t ffn, GpuDtype dtype, FusedOut out,
                     cudaStream_t stream, bool gate_up_swapped) {
  if (batch <= 0 || ffn <= 0 || ffn % kGemvInputRun != 0) return cudaErrorInvalidValue;
  const int64_t runs = batch * ffn / kGemvInputRun, runs_per_block = 256 / 32;
  const auto grid = static_cast<unsigned>((runs + runs_per_block - 1) / runs_per_block);
  switch (dtype) {
    case GpuDtype::f32:
      cuq_launch(fused_silu_mul_kernel<GpuDtype::f32>, grid, 256, stream, gate_up, batch, ffn, out, gate_up_swapped);
      break;
    case GpuDtype::f16:
      cuq_launch(fused_silu_mul_kernel<GpuDtype::f16>, grid, 256, stream, gate_up, batch, ffn, out, gate_up_swapped);
      break;
    case GpuDtype::bf16:
      cuq_launch(fused_silu_mul_kernel<GpuDtype::bf16>, grid, 256, stream, gate_up, batch, ffn, out, gate_up_swapped);
      break;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
