// LlamaForCausalLMImpl::fused_decode_step: one decode step through the fused kernels of
// fused/decode_kernels.h and the quantised-input products of quant::linear. A layer is five kernels:
//
//   qkv product, rotary + cache write + attention, o product + residual + norm, gate/up product +
//   silu(gate) * up, down product + residual + the next layer's norm
//
// each ending in the next product's quantised input, where LibTorch's ops take about twenty (each
// product quantising its own input, the rotary embedding and cache write five to seven, the
// residual adds, a mask over the whole cache). A kernel boundary is a wait for the whole GPU: the
// work that needs a whole output (the norms, the attention's chunks combined) is done by the thread
// block that finishes last (quant/cuda/last_block.cuh).
// Decoding a token on a GPU is bound by the weights' bytes and by kernel launches (which overlap:
// quant/cuda/launch.cuh): Llama-2-7B Q4_0 decodes at 381 tokens/s on an H100, 1.12x llama-bench
// (results/2026-12-05-h100-gguf-fused/).
#include <ATen/ATen.h>

#include <optional>
#include <tuple>

#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/models/llama.h"

namespace mlspeed::llama {
namespace {

// The kernels for this model and step, or null when any part of the step is not theirs to take.
const fused::DecodeKernels* llama_fused_kernels(const LlamaForCausalLMImpl& model, const at::Tensor& x,
                                                const KVCache& cache) {
  const fused::DecodeKernels* k = fused::decode_kernels(x.device());
  const LlamaConfig& c = model.config();
  const int64_t rows = x.size(0);
  const at::ScalarType dtype = x.scalar_type();
  if (!k || (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16) || x.size(1) != 1 ||
      c.hidden_size % 32 != 0 || c.intermediate_size % 32 != 0 || !k->supports_head_dim(c.head_dim()) ||
      cache.batch() != rows)
    return nullptr;
  const auto takes = [&](const quant::QuantizedMatrix& m) {
    return m.defined() && quant::takes_quantized_input(m, x.device(), rows);
  };
  for (const auto& layer : model.model->typed_layers) {
    if (!takes(layer->self_attn->qkv_matrix()) || !takes(layer->self_attn->o_proj->matrix()) ||
        !takes(layer->mlp->gate_up_matrix()) || !takes(layer->mlp->down_proj->matrix()))
      return nullptr;
  }
  return k;
}

}  // namespace

std::optional<at::Tensor> LlamaForCausalLMImpl::fused_decode_step(const at::Tensor& x, KVCache& cache) {
  const fused::DecodeKernels* k = llama_fused_kernels(*this, x, cache);
  if (!k) return std::nullopt;
  const int64_t rows = x.size(0), heads = config_.num_attention_heads;
  const at::ScalarType dtype = x.scalar_type();
  const auto& [cos, sin] = rotary_for(x);
  // The counters the kernels count their thread blocks with: the attention's (a sequence and head
  // each), the norms' (one: two products with a norm are never in flight together,
  // quant/cuda/launch.cuh) and the gate/up product's (a run of 32 of the activation each).
  const int64_t runs = config_.intermediate_size / 32;
  const at::Tensor& counters = cache.counters(rows * heads + 1 + runs);
  const at::Tensor tickets = counters.narrow(0, 0, rows * heads), norm_counter = counters.narrow(0, rows * heads, 1),
                   run_counters = counters.narrow(0, rows * heads + 1, runs);
  using Then = quant::ProductEpilogue;
  auto& layers = model->typed_layers;
  at::Tensor h = x.reshape({rows, config_.hidden_size}).contiguous();  // the residual stream
  // Each layer's input norm is computed by the product before it (the previous layer's down
  // product, whose norm of the last layer is the model's final one).
  quant::QuantizedInput normed =
      k->rms_norm_quantize(h, layers.front()->input_layernorm->weight, layers.front()->input_layernorm->eps());
  for (size_t i = 0; i < layers.size(); ++i) {
    LlamaDecoderLayerImpl& layer = *layers[i];
    LlamaAttentionImpl& attention = *layer.self_attn;
    const auto [keys, values] = cache.layer(static_cast<int64_t>(i));
    const at::Tensor qkv = quant::linear(normed, attention.qkv_matrix(), dtype);
    const quant::QuantizedInput attended = k->rotary_attention_quantize(
        qkv, attention.heads(), attention.kv_heads(), cos, sin, cache.position(), keys, values, tickets);
    const RMSNormImpl& post = *layer.post_attention_layernorm;
    auto [after_attention, normed_again] = quant::linear(attended, attention.o_proj->matrix(), dtype, h,
                                                         {Then::Kind::rms_norm, post.weight, post.eps(), norm_counter});
    const quant::QuantizedInput activated =
        quant::linear(normed_again, layer.mlp->gate_up_matrix(), dtype, {}, {Then::Kind::silu_mul, {}, 0, run_counters})
            .second;
    const RMSNormImpl& next = i + 1 < layers.size() ? *layers[i + 1]->input_layernorm : *model->norm;
    std::tie(h, normed) = quant::linear(activated, layer.mlp->down_proj->matrix(), dtype, after_attention,
                                        {Then::Kind::rms_norm, next.weight, next.eps(), norm_counter});
  }
  cache.advance_position();
  const quant::QuantizedMatrix head = lm_head->matrix();
  const at::Tensor logits = head.defined() && quant::takes_quantized_input(head, x.device(), rows)
                                ? quant::linear(normed, head, dtype)
                                : lm_head(model->norm(h));
  return logits.view({rows, 1, config_.vocab_size});
}

}  // namespace mlspeed::llama
