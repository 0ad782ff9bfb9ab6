// What the gpu tests of mlspeed's fused kernels (src/mlspeed/fused/*_gpu_test.cpp) share: the
// fixture that finds the kernels on cuda:0 (skipped without a CUDA device; a failure when the
// build had nvcc yet nothing is registered, which the test file's MLSPEED_FUSED_CUDA_KERNELS says),
// the dtypes they run in, and inputs drawn on the CPU (the same on any machine).
#pragma once

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
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

// The relative error of a few roundings to the dtype (8 significant bits for bfloat16, 11 for
// float16) and of float32 sums.
inline double fused_rows_unit(at::ScalarType dtype) {
  if (dtype == at::kBFloat16) return 4 * std::ldexp(1.0, -8);
  if (dtype == at::kHalf) return 4 * std::ldexp(1.0, -11);
  return 1e-5;
}

// got holds want (float64) to within `unit` (fused_rows_unit when 0) of the largest |want| of its row.
inline void expect_rows_close(const at::Tensor& got, const at::Tensor& want, at::ScalarType dtype, double unit = 0) {
  ASSERT_EQ(got.scalar_type(), dtype);
  ASSERT_EQ(got.sizes(), want.sizes());
  const at::Tensor bound = want.abs().amax(-1, true) * (unit > 0 ? unit : fused_rows_unit(dtype)) + 1e-6;
  const at::Tensor excess = (fused_cpu64(got) - want).abs() - bound;
  EXPECT_LE(excess.max().item<double>(), 0.0) << "worst at flat index " << excess.argmax().item<int64_t>();
}

}  // namespace mlspeed::testing
