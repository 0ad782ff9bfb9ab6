// Two consecutive values of an activation at a time: the access of the channels-last kernels of
// this folder (group_norm.cu, batch_norm.cu), whose threads each keep a fixed pair of channels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "mlspeed/quant/cuda/cuda_values.cuh"

namespace mlspeed::fused::gpu {

// Two consecutive values at element i (even; the array 4-byte aligned, 8 for float32).
template <quant::gpu::GpuDtype D>
__device__ __forceinline__ float2 fused_load2(const void* p, int64_t i) {
  if constexpr (D == quant::gpu::GpuDtype::f32) {
    return *reinterpret_cast<const float2*>(static_cast<const float*>(p) + i);
  } else {
    const uint32_t word = *reinterpret_cast<const uint32_t*>(static_cast<const uint16_t*>(p) + i);
    const uint16_t lo = static_cast<uint16_t>(word & 0xFFFF), hi = static_cast<uint16_t>(word >> 16);
    return make_float2(quant::gpu::cuq_load<D>(&lo, 0), quant::gpu::cuq_load<D>(&hi, 0));
  }
}

template <quant::gpu::GpuDtype D>
__device__ __forceinline__ void fused_store2(void* p, int64_t i, float a, float b) {
  if constexpr (D == quant::gpu::GpuDtype::f32) {
    *reinterpret_cast<float2*>(static_cast<float*>(p) + i) = make_float2(a, b);
  } else {
    *reinterpret_cast<uint32_t*>(static_cast<uint16_t*>(p) + i) = quant::gpu::cuq_pack2<D>(a, b);
  }
}

}  // namespace mlspeed::fused::gpu
