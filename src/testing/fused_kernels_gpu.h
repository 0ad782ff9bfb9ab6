// What the gpu tests of mlspeed's fused kernels (src/mlspeed/fused/*_gpu_test.cpp) share: the
// fixture that finds the kernels on cuda:0 (skipped without a CUDA device; a failure when the
// build had nvcc yet nothing is registered, which the test file's MLSPEED_FUSED_CUDA_KERNELS says),
// the dtypes they run in, and inputs drawn on the CPU (the same on any machine).
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdint>
#include <vector>

#include "mlspeed/fused/decode_kernels.h"

namespace mlspeed::testing {

class FusedKernelsGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    kernels = fused::decode_kernels(gpu);
#ifdef MLSPEED_FUSED_CUDA_KERNELS
    ASSERT_NE(kernels, nullptr) << "built with nvcc, yet the fused kernels are not registered";
#else
    if (!kernels) GTEST_SKIP() << "built without a CUDA compiler: decoding runs LibTorch's ops";
#endif
  }
  const c10::Device gpu{c10::DeviceType::CUDA, 0};
  const fused::DecodeKernels* kernels = nullptr;
};

inline const std::vector<at::ScalarType>& fused_dtypes() {
  static const std::vector<at::ScalarType> dtypes = {at::kFloat, at::kHalf, at::kBFloat16};
  return dtypes;
}

// Normal values in `dtype` on `device`, from a CPU generator (the same on any machine).
inline at::Tensor fused_random(at::IntArrayRef shape, uint64_t seed, at::ScalarType dtype, const c10::Device& device) {
  return at::randn(shape, at::make_generator<at::CPUGeneratorImpl>(seed), at::kFloat).to(device, dtype);
}

inline at::Tensor fused_cpu64(const at::Tensor& t) { return t.to(at::kCPU, at::kDouble); }

}  // namespace mlspeed::testing
