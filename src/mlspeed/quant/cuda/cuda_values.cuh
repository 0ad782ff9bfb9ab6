// Device-side reading and writing of the values the kernels of this folder share: activations and
// products in float32, float16 or bfloat16 (GpuDtype), and the fp16 scales of ggml's blocks.
// Conversions are the hardware's: round to nearest even, as blocks.h's reference does.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "mlspeed/quant/cuda/quant_kernels.cuh"

namespace mlspeed::quant::gpu {

__device__ __forceinline__ float cuq_half_bits_to_float(uint32_t bits) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(bits & 0xFFFF)));
}

// Element i of an array of `D`.
template <GpuDtype D>
__device__ __forceinline__ float cuq_load(const void* p, int64_t i) {
  if constexpr (D == GpuDtype::f32) {
    return static_cast<const float*>(p)[i];
  } else if constexpr (D == GpuDtype::f16) {
    return __half2float(static_cast<const __half*>(p)[i]);
  } else {
    return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
  }
}

template <GpuDtype D>
__device__ __forceinline__ void cuq_store(void* p, int64_t i, float v) {
  if constexpr (D == GpuDtype::f32) {
    static_cast<float*>(p)[i] = v;
  } else if constexpr (D == GpuDtype::f16) {
    static_cast<__half*>(p)[i] = __float2half_rn(v);
  } else {
    static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16_rn(v);
  }
}

// v rounded to `D` and back: the value a LibTorch op writing `D` leaves.
template <GpuDtype D>
__device__ __forceinline__ float cuq_round(float v) {
  if constexpr (D == GpuDtype::f32) {
    return v;
  } else if constexpr (D == GpuDtype::f16) {
    return __half2float(__float2half_rn(v));
  } else {
    return __bfloat162float(__float2bfloat16_rn(v));
  }
}

// Two floats as the 32 bits of two consecutive `D` values (D: f16 or bf16), the first in the low half.
template <GpuDtype D>
__device__ __forceinline__ uint32_t cuq_pack2(float lo, float hi) {
  if constexpr (D == GpuDtype::f16) {
    return static_cast<uint32_t>(__half_as_ushort(__float2half_rn(lo))) |
           (static_cast<uint32_t>(__half_as_ushort(__float2half_rn(hi))) << 16);
  } else {
    return static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(lo))) |
           (static_cast<uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(hi))) << 16);
  }
}

// Eight consecutive values at element i of an array of `D` (i a multiple of 8, the array 16-byte
// aligned): one or two 16-byte loads through the read-only cache (memory no kernel in flight
// writes).
template <GpuDtype D>
__device__ __forceinline__ void cuq_load8(const void* p, int64_t i, float (&v)[8]) {
  const auto load = [](const auto* at) { return __ldg(at); };
  if constexpr (D == GpuDtype::f32) {
    const float4* f = reinterpret_cast<const float4*>(static_cast<const float*>(p) + i);
    const float4 a = load(f), b = load(f + 1);
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
  } else {
    const uint4 raw = load(reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p) + i));
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const uint16_t lo = static_cast<uint16_t>(words[k] & 0xFFFF), hi = static_cast<uint16_t>(words[k] >> 16);
      v[2 * k] = cuq_load<D>(&lo, 0);
      v[2 * k + 1] = cuq_load<D>(&hi, 0);
    }
  }
}

// Eight consecutive values v[0..7] stored at element i of an array of `D` (i a multiple of 8 and
// the array 16-byte aligned): one or two 16-byte stores.
template <GpuDtype D>
__device__ __forceinline__ void cuq_store8(void* p, int64_t i, const float (&v)[8]) {
  if constexpr (D == GpuDtype::f32) {
    float4* out = reinterpret_cast<float4*>(static_cast<float*>(p) + i);
    out[0] = make_float4(v[0], v[1], v[2], v[3]);
    out[1] = make_float4(v[4], v[5], v[6], v[7]);
  } else {
    uint4* out = reinterpret_cast<uint4*>(static_cast<uint16_t*>(p) + i);
    *out = make_uint4(cuq_pack2<D>(v[0], v[1]), cuq_pack2<D>(v[2], v[3]), cuq_pack2<D>(v[4], v[5]),
                      cuq_pack2<D>(v[6], v[7]));
  }
}

}  // namespace mlspeed::quant::gpu
