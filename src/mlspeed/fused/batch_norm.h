// Training's BatchNorm, optionally followed by a residual add and ReLU, on channels-last
// activations (ResNet's bottlenecks), as one autograd node through mlspeed's fused CUDA kernels
// (fused/cuda/batch_norm.cu): three kernels forward (statistics, finalize, normalise + add +
// ReLU) and three backward, where LibTorch runs the norm's kernels, the add and the ReLU
// separately both ways. Registered at start-up by the CUDA build; in evaluation mode, elsewhere,
// with LibTorch's kernels (core/kernel_set.h), or for tensors the kernels do not take, LibTorch's
// ops.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/modules/batchnorm.h>

#include "mlspeed/fused/batch_norm_kernels.h"

namespace mlspeed::fused {

// Whether batch_norm below takes the fused kernels: registered for x's device type, mlspeed's
// kernels in force, the module training with affine parameters and running statistics in
// float32, x (N, C, H, W) channels-last in float32, float16 or bfloat16 with more than one value
// a channel, the residual (if defined) of x's shape, dtype and layout, C even and at most 2048.
bool batch_norm_takes(const at::Tensor& x, const at::Tensor& residual, const torch::nn::BatchNorm2dImpl& norm);

// relu(norm(x) + residual) (no residual: undefined; relu false: no ReLU), as the module and
// LibTorch's ops compute it, running statistics and num_batches_tracked included.
at::Tensor batch_norm(const at::Tensor& x, const at::Tensor& residual, torch::nn::BatchNorm2dImpl& norm, bool relu);

}  // namespace mlspeed::fused
