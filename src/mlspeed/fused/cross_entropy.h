// The mean cross-entropy of a language model's logits through mlspeed's fused CUDA kernels
// (fused/cuda/cross_entropy.cu): forward and backward read the logits in their own dtype (bfloat16
// under autocast) and never make the float32 copy, log-softmax and float32 gradient that
// at::cross_entropy_loss makes under autocast. Registered at start-up by the CUDA build
// (fused/cuda/register.cu); elsewhere, and with LibTorch's kernels (core/kernel_set.h), it is
// at::cross_entropy_loss itself.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <utility>

namespace mlspeed::fused {

struct CrossEntropyKernels {
  // Per row of logits (N, V) and targets (N): the loss (0 where the target is ignore_index) and
  // the log-sum-exp, float32 (N) each.
  std::pair<at::Tensor, at::Tensor> (*forward)(const at::Tensor& logits, const at::Tensor& targets,
                                               int64_t ignore_index) = nullptr;
  // The logits' gradient in their dtype: (softmax - one-hot) * scale, scale a float32 (1) on the
  // device; 0 for an ignored row.
  at::Tensor (*backward)(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& logsumexp,
                         const at::Tensor& scale, int64_t ignore_index) = nullptr;
  // As fused/decode_kernels.h's: CUDA, or the CPU for the tests' LibTorch-op references.
  c10::DeviceType device_type = c10::DeviceType::CUDA;
};

// Returns the kernels registered before.
CrossEntropyKernels register_cross_entropy_kernels(const CrossEntropyKernels& kernels);

// Whether cross_entropy below takes the fused kernels for these tensors: registered for their
// device's type (CUDA), mlspeed's kernels in force, logits (N, V) contiguous float32, float16 or bfloat16 with V a multiple of
// 8, targets int64 (N).
bool fused_cross_entropy_takes(const at::Tensor& logits, const at::Tensor& targets);

// at::cross_entropy_loss(logits, targets) with its defaults (mean over the rows whose target is not
// -100), as a float32 scalar when the fused kernels take it (what autocast's float32 loss gives),
// with a gradient for the logits in their dtype.
at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& targets);

}  // namespace mlspeed::fused
