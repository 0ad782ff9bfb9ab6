#include "mlspeed/fused/decode_kernels.h"

#include "mlspeed/core/kernel_set.h"

namespace mlspeed::fused {
namespace {

DecodeKernels& registered() {
  static DecodeKernels kernels;
  return kernels;
}

}  // namespace

void register_decode_kernels(const DecodeKernels& kernels) { registered() = kernels; }

const DecodeKernels* decode_kernels(const at::Device& device) {
  const DecodeKernels& k = registered();
  if (!device.is_cuda() || !own_kernels() || !k.rms_norm_quantize) return nullptr;
  return &k;
}

}  // namespace mlspeed::fused
