// A launcher's one switch over the activations' dtype: f(tag) with tag a std::integral_constant
// of the GpuDtype, so that the kernel's template argument is decltype(tag)::value.
#pragma once

#include <type_traits>

#include "mlspeed/quant/cuda/quant_kernels.cuh"

namespace mlspeed::fused::gpu {

template <typename F>
void fused_dispatch(quant::gpu::GpuDtype dtype, F&& f) {
  using quant::gpu::GpuDtype;
  switch (dtype) {
    case GpuDtype::f32: f(std::integral_constant<GpuDtype, GpuDtype::f32>{}); break;
    case GpuDtype::f16: f(std::integral_constant<GpuDtype, GpuDtype::f16>{}); break;
    case GpuDtype::bf16: f(std::integral_constant<GpuDtype, GpuDtype::bf16>{}); break;
  }
}

}  // namespace mlspeed::fused::gpu
