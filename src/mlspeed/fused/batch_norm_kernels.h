// The kernels behind fused/batch_norm.h, registered by the CUDA build (fused/cuda/register.cu) or
// by a test's references: LibTorch tensors in and out, no module, so that nvcc compiles ATen's
// headers alone.
#pragma once

#include <ATen/ATen.h>

#include <tuple>

namespace mlspeed::fused {

struct BatchNormKernels {
  // (out, mean, 1/std) of x (N, C, H, W) channels-last, the residual (its shape and layout) or
  // undefined, weight and bias (C) float32; the running statistics (C) float32 updated in place
  // with momentum.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> (*forward)(const at::Tensor& x, const at::Tensor& residual,
                                                            const at::Tensor& weight, const at::Tensor& bias,
                                                            const at::Tensor& running_mean,
                                                            const at::Tensor& running_var, double momentum,
                                                            double eps, bool relu) = nullptr;
  // (d_x, d_residual (undefined without a residual), d_weight, d_bias) from forward's x and out, its
  // mean and 1/std, the weight and out's gradient.
  std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> (*backward)(
      const at::Tensor& x, const at::Tensor& out, const at::Tensor& mean, const at::Tensor& invstd,
      const at::Tensor& weight, const at::Tensor& d_out, bool relu, bool residual) = nullptr;
  c10::DeviceType device_type = c10::DeviceType::CUDA;  // as fused/decode_kernels.h's
};

// Returns the kernels registered before.
BatchNormKernels register_batch_norm_kernels(const BatchNormKernels& kernels);

}  // namespace mlspeed::fused
