// Device-side writing of a fused kernel's output (fused_kernels.cuh's FusedOut): the one branch
// between a quantised product's input and plain activations, taken the same way by the whole
// grid, so that each kernel has one body for both.
#pragma once

#include <cstdint>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/gemv_input.cuh"

namespace mlspeed::fused::gpu {

// Value `lane` of run `run` (32 consecutive values of the output, lane i of a full warp holding
// value i; every lane calls this): stored in the dtype, or quantised with its run.
template <GpuDtype D>
__device__ __forceinline__ void fused_write_run(const FusedOut& out, float value, int lane, int64_t run) {
  if (out.plain) {
    quant::gpu::cuq_store<D>(out.plain, run * quant::gpu::kGemvInputRun + lane, value);
    return;
  }
  quant::gpu::cuq_write_input_run(value, lane, run, const_cast<int8_t*>(out.quantised.q),
                                  const_cast<float*>(out.quantised.d), const_cast<int32_t*>(out.quantised.sum));
}

}  // namespace mlspeed::fused::gpu
