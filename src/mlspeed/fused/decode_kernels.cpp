#include "mlspeed/fused/decode_kernels.h"

#include "mlspeed/core/kernel_set.h"

namespace mlspeed::fused {
namespace {

DecodeKernels& registered() {
  static DecodeKernels kernels;
  return kernels;
}

}  // namespace

DecodeKernels register_decode_kernels(const DecodeKernels& kernels) {
  const DecodeKernels before = registered();
  registered() = kernels;
  return before;
}

const DecodeKernels* decode_kernels(const at::Device& device) {
  const DecodeKernels& k = registered();
  if (device.type() != k.device_type || !own_kernels() || !k.supports_head_dim) return nullptr;
  return &k;
}

}  // namespace mlspeed::fused
