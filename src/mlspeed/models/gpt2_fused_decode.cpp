// GPT2ModelImpl::fused_decode_step: one decode step of GPT-2 through the fused kernels of
// fused/decode_kernels.h and cuBLAS's products, the biases added by the kernels after them:
//
//   qkv product, attention (+ bias, cache write), proj product, residual add (+ bias) + ln_2,
//   fc product, bias + GELU, proj product, residual add (+ bias) + the next layer's ln_1 (ln_f)
//
// eight kernels a layer where LibTorch's ops run about fourteen (the products with their biases,
// two cache writes, attention under a mask over the whole cache, GELU, the adds, the norms).
// GPT-2 small decodes a token from 0.25 GB of weights: it is bound by those kernels' count, not
// by the bytes (results/2026-11-30-h200-speed/: 0.565 ms a token, 170 kernels, 9% of bandwidth).
#include <ATen/ATen.h>

#include <optional>

#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/models/kv_cache.h"

namespace mlspeed::gpt2 {

std::optional<at::Tensor> GPT2ModelImpl::fused_decode_step(const at::Tensor& x, KVCache& cache) {
  const fused::DecodeKernels* k = fused::decode_kernels(x.device());
  const at::ScalarType dtype = x.scalar_type();
  const int64_t rows = x.size(0), C = config_.n_embd, heads = config_.n_head;
  if (!k || !k->decode_attention || (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16) ||
      x.dim() != 3 || x.size(1) != 1 || C % 8 != 0 || !k->supports_head_dim(C / heads) || cache.batch() != rows ||
      (is_training() && config_.dropout > 0) || at::GradMode::is_enabled())  // the kernels have no backward
    return std::nullopt;
  const at::Tensor& tickets = cache.counters(rows * heads);
  at::Tensor h = x.reshape({rows, C}).clone();  // the residual stream, added into by every layer
  at::Tensor normed = blocks_[0]->ln_1(h);
  for (size_t i = 0; i < blocks_.size(); ++i) {
    BlockImpl& block = *blocks_[i];
    const auto [keys, values] = cache.layer(static_cast<int64_t>(i));
    const at::Tensor qkv = at::mm(normed, block.attn->c_attn->weight);
    const at::Tensor attended = k->decode_attention(qkv, block.attn->c_attn->bias, heads, heads, {}, {},
                                                    cache.position(), keys, values, tickets);
    normed = k->add_layer_norm(h, at::mm(attended, block.attn->c_proj->weight), block.attn->c_proj->bias,
                               block.ln_2->weight, block.ln_2->bias, block.ln_2->options.eps());
    const at::Tensor hidden = k->bias_gelu(at::mm(normed, block.mlp->c_fc->weight), block.mlp->c_fc->bias);
    const torch::nn::LayerNormImpl& next = i + 1 < blocks_.size() ? *blocks_[i + 1]->ln_1 : *ln_f;
    normed = k->add_layer_norm(h, at::mm(hidden, block.mlp->c_proj->weight), block.mlp->c_proj->bias, next.weight,
                               next.bias, next.options.eps());
  }
  cache.advance_position();
  return head(normed);
}

}  // namespace mlspeed::gpt2
