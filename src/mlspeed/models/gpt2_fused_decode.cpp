// GPT2ModelImpl::fused_decode_step: one decode step of GPT-2 through the fused kernels of
// fused/decode_kernels.h, five a layer:
//
//   ln_1 + qkv product, attention (+ bias, cache write), proj product + bias + residual add,
//   ln_2 + fc product + bias + GELU, proj product + bias + residual add
//
// and ln_f + the head's product, where LibTorch's ops run about fourteen a layer (the products
// with their biases, two cache writes, attention under a mask over the whole cache, GELU, the adds,
// the norms). GPT-2 small decodes a token from 0.25 GB of weights: it is bound by its kernels'
// count and latency, not by the bytes (results/2026-11-30-h200-speed/: 0.565 ms a token, 170
// kernels, 9% of bandwidth; eight kernels a layer with cuBLAS's products: 0.485 ms on an H100,
// results/2026-12-06-h100-fused-speed/).
#include <ATen/ATen.h>

#include <optional>

#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/models/kv_cache.h"

namespace mlspeed::gpt2 {

namespace {

fused::ProductSteps gpt2_normed(const torch::nn::LayerNormImpl& norm) {
  fused::ProductSteps steps;
  steps.norm = fused::ProductSteps::Norm::layer;
  steps.norm_weight = norm.weight;
  steps.norm_bias = norm.bias;
  steps.eps = norm.options.eps();
  return steps;
}

fused::ProductSteps gpt2_into_residual(const at::Tensor& bias, const at::Tensor& residual) {
  fused::ProductSteps steps;
  steps.bias = bias;
  steps.residual = residual;
  return steps;
}

}  // namespace

std::optional<at::Tensor> GPT2ModelImpl::fused_decode_step(const at::Tensor& x, KVCache& cache) {
  const fused::DecodeKernels* k = fused::decode_kernels(x.device());
  const at::ScalarType dtype = x.scalar_type();
  const int64_t rows = x.size(0), C = config_.n_embd, heads = config_.n_head, ffn = 4 * C;
  const bool kernels_take_it =
      k && k->decode_attention && k->product && k->supports_head_dim(C / heads) &&
      k->product_supports(C, 3 * C, true, true) && k->product_supports(C, ffn, true, true) &&
      k->product_supports(ffn, C, false, true) && k->product_supports(C, config_.vocab_size, true, false);
  if (!kernels_take_it || (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16) || x.dim() != 3 ||
      x.size(1) != 1 || cache.batch() != rows || (is_training() && config_.dropout > 0) ||
      at::GradMode::is_enabled())  // the kernels have no backward
    return std::nullopt;
  const at::Tensor& tickets = cache.counters(rows * heads);
  const at::Tensor h = x.reshape({rows, C}).clone();  // the residual stream, added into by every layer
  for (size_t i = 0; i < blocks_.size(); ++i) {
    BlockImpl& block = *blocks_[i];
    const auto [keys, values] = cache.layer(static_cast<int64_t>(i));
    const at::Tensor qkv = k->product(h, block.attn->c_attn->weight, true, gpt2_normed(*block.ln_1));
    const at::Tensor attended = k->decode_attention(qkv, block.attn->c_attn->bias, heads, heads, {}, {},
                                                    cache.position(), keys, values, tickets);
    k->product(attended, block.attn->c_proj->weight, true, gpt2_into_residual(block.attn->c_proj->bias, h));
    fused::ProductSteps fc = gpt2_normed(*block.ln_2);
    fc.bias = block.mlp->c_fc->bias;
    fc.gelu = true;
    const at::Tensor hidden = k->product(h, block.mlp->c_fc->weight, true, fc);
    k->product(hidden, block.mlp->c_proj->weight, true, gpt2_into_residual(block.mlp->c_proj->bias, h));
  }
  cache.advance_position();
  return k->product(h, wte->weight, false, gpt2_normed(*ln_f));  // the head, tied to the embedding
}

}  // namespace mlspeed::gpt2
