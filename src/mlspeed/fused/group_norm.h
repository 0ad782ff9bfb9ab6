// Inference's GroupNorm, optionally after a per-channel add and followed by SiLU, on channels-last
// activations (Stable Diffusion's UNet: each ResNet block's norm1 + SiLU and time-embedding add +
// norm2 + SiLU, the transformers' norm, conv_norm_out + SiLU), through mlspeed's fused CUDA
// kernels (fused/cuda/group_norm.cu): two kernels, the statistics and the normalised, activated
// output, reading and writing channels-last. LibTorch's GroupNorm on CUDA takes channels-first
// only: on a channels-last UNet each norm costs a copy in, a copy back out for the next
// convolution, four kernels of its own and SiLU's (the H200 profile of the UNet,
// results/2026-11-30-h200-profile/). Registered at start-up by the CUDA build; elsewhere, with
// LibTorch's kernels (core/kernel_set.h), or for tensors the kernels do not take, LibTorch's ops.
// Differentiable (backward recomputes LibTorch's ops), so that the verifier's model checks, which
// take gradients, run the kernels a benchmark runs.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace mlspeed::fused {

struct GroupNormKernels {
  // GroupNorm(x + add[n, c]) with weight and bias, then SiLU when silu is set: x (N, C, H, W)
  // channels-last, add (N, C) or undefined, weight and bias (C), all in x's dtype; the output
  // channels-last in that dtype.
  at::Tensor (*forward)(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                        const at::Tensor& bias, double eps, bool silu) = nullptr;
  c10::DeviceType device_type = c10::DeviceType::CUDA;  // as fused/decode_kernels.h's
};

// Returns the kernels registered before.
GroupNormKernels register_group_norm_kernels(const GroupNormKernels& kernels);

// Whether group_norm below takes the fused kernels: registered for x's device type, mlspeed's
// kernels in force, x (N, C, H, W) channels-last in float32, float16 or
// bfloat16, weight and bias (C) and add (N, C) (if defined) in its dtype, C / groups even, C at
// most 2048.
bool group_norm_takes(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                      const at::Tensor& bias);

// at::group_norm(x + add.view(N, C, 1, 1), groups, weight, bias, eps), then at::silu if silu is set
// (add undefined: none). The fused kernels where they take the tensors, LibTorch's ops otherwise.
at::Tensor group_norm(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                      const at::Tensor& bias, double eps, bool silu);

}  // namespace mlspeed::fused
