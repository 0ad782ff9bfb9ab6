// Training's residual add and the LayerNorm after it as one autograd node, through mlspeed's
// fused CUDA kernels (fused/cuda/residual_layer_norm.cu): (sum, out) = (x + y, LayerNorm(x + y)),
// with x the float32 residual stream and y a branch in its own dtype (bfloat16 under autocast),
// out in y's dtype, what the next matrix product takes. Registered at start-up by the CUDA build;
// elsewhere, with LibTorch's kernels (core/kernel_set.h) or for other tensors, the caller runs
// LibTorch's ops (residual_layer_norm_takes says which).
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

namespace mlspeed::fused {

struct ResidualLayerNormKernels {
  // (sum, out, mean, rstd) of x (N, C) float32, y (N, C), gamma and beta (C) float32.
  std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> (*forward)(const at::Tensor& x, const at::Tensor& y,
                                                                        const at::Tensor& gamma,
                                                                        const at::Tensor& beta, double eps) = nullptr;
  // (d_x, d_y, d_gamma, d_beta) from the forward's sum, mean, rstd, gamma, the gradient of out and
  // that of sum (undefined: sum was not used after the norm).
  std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> (*backward)(const at::Tensor& sum,
                                                                         const at::Tensor& mean,
                                                                         const at::Tensor& rstd,
                                                                         const at::Tensor& gamma,
                                                                         const at::Tensor& d_out,
                                                                         const at::Tensor& d_sum) = nullptr;
  c10::DeviceType device_type = c10::DeviceType::CUDA;  // as fused/decode_kernels.h's
};

// Returns the kernels registered before.
ResidualLayerNormKernels register_residual_layer_norm_kernels(const ResidualLayerNormKernels& kernels);

// Whether residual_layer_norm takes these tensors: registered for their device's type, mlspeed's
// kernels in force, x (N, C) float32 and y of its shape in float32, float16 or bfloat16, gamma and
// beta (C) float32 (beta may be undefined: a norm without bias, as nanoGPT's), C a multiple of 8.
bool residual_layer_norm_takes(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gamma,
                               const at::Tensor& beta);

// (x + y, LayerNorm(x + y) gamma + beta in y's dtype), differentiable in x, y, gamma and beta.
// x and y of more than two dimensions are taken as rows of their last.
std::pair<at::Tensor, at::Tensor> residual_layer_norm(const at::Tensor& x, const at::Tensor& y,
                                                      const at::Tensor& gamma, const at::Tensor& beta, double eps);

struct NormParameters {
  at::Tensor weight, bias;  // bias may be undefined
  double eps = 1e-5;
};

// A pre-norm transformer's blocks (GPT-2's and nanoGPT's): x = x + attn(ln_1(x)), then
// x = x + mlp(ln_2(x)) for each block, then ln_f(x).
struct PreNormBlocks {
  size_t count = 0;
  std::function<NormParameters(size_t block)> ln_1, ln_2;
  NormParameters ln_f;
  std::function<at::Tensor(size_t block, const at::Tensor& normed)> attn, mlp;
};

// ln_f's output from the embeddings x, each residual add and the norm after it one
// residual_layer_norm node (the first ln_1 is LibTorch's), where the kernels take the tensors;
// empty otherwise, and the caller runs the blocks. The branches may hold dropout: it comes before
// the add.
std::optional<at::Tensor> pre_norm_blocks(const at::Tensor& x, const PreNormBlocks& blocks);

}  // namespace mlspeed::fused
