// LlamaForCausalLMImpl::fused_decode_step: one decode step through the fused kernels of
// fused/decode_kernels.h and the quantised-input products of quant::linear. A layer is eight kernels:
//
//   norm+quantise, qkv product, rotary + cache write + attention (ending quantised),
//   o product + residual, norm+quantise, gate/up product, silu*up+quantise, down product + residual
//
// where LibTorch's ops take about twenty (each product quantising its own input, the rotary
// embedding and cache write five to seven, the residual adds, a mask over the whole cache). A layer
// whose q, k and v are not one matrix (llama.cpp's Q4_K_M files keep v in q6_k and q, k in q4_k in
// some layers) makes a product of the one quantised input with each and joins them: ten kernels.
// Decoding a token on a GPU is bound by the weights' bytes and by kernel launches (which overlap:
// quant/cuda/launch.cuh): Llama-2-7B Q4_0 decodes at 491 tokens/s on an H100, 1.43x llama-bench on
// the same file, and Q4_K_M (1.36x) at 386, which took LibTorch's ops before at 257
// (results/2026-12-05-h100-gguf-split/); the ten kernels a layer before this step decoded Q4_0 at
// 380 (results/2026-12-05-h100-decode-kernels/).
//
// A model of 16-bit (or float32) weights takes the same attention and activation kernels with
// their outputs as activations, cuBLAS's products between them, and the residual added by the
// o and down products themselves (addmm_ into the residual stream): eight kernels a layer where
// LibTorch's ops run about fourteen, and attention over the filled positions only. The decode
// product that GPT-2's step takes (fused/decode_kernels.h's `product`, the RMSNorm inside it) made
// this step slower on an H100: Llama-2-7B bf16 tg128 at 149 tokens/s against 174 with cuBLAS's
// products, whose GEMVs stream these 4096-wide weights faster than its (N, K) kernel
// (results/2026-12-06-h100-decode-product/).
#include <ATen/ATen.h>

#include <optional>
#include <vector>

#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/models/llama.h"

namespace mlspeed::llama {
namespace {

// The matrices of q, k and v (gate and up): one when they were fused (one format), else each.
std::vector<quant::QuantizedMatrix> llama_qkv_matrices(const LlamaAttentionImpl& attention) {
  if (const quant::QuantizedMatrix qkv = attention.qkv_matrix(); qkv.defined()) return {qkv};
  return {attention.q_proj->matrix(), attention.k_proj->matrix(), attention.v_proj->matrix()};
}

std::vector<quant::QuantizedMatrix> llama_gate_up_matrices(const LlamaMLPImpl& mlp) {
  if (const quant::QuantizedMatrix gate_up = mlp.gate_up_matrix(); gate_up.defined()) return {gate_up};
  return {mlp.gate_proj->matrix(), mlp.up_proj->matrix()};
}

// The products of one quantised input with each matrix, side by side: (rows, sum of their rows).
at::Tensor llama_joined_product(const quant::QuantizedInput& x, const std::vector<quant::QuantizedMatrix>& matrices,
                                at::ScalarType dtype) {
  std::vector<at::Tensor> parts;
  for (const quant::QuantizedMatrix& m : matrices) parts.push_back(quant::linear(x, m, dtype));
  return parts.size() == 1 ? parts[0] : at::cat(parts, 1);
}

// The kernels for this model and step, or null when any part of the step is not theirs to take:
// with `dense` set, the step of 16-bit weights (every layer dense in x's dtype, q, k, v and gate,
// up fused), else the quantised one.
const fused::DecodeKernels* llama_fused_kernels(const LlamaForCausalLMImpl& model, const at::Tensor& x,
                                                const KVCache& cache, bool& dense) {
  const fused::DecodeKernels* k = fused::decode_kernels(x.device());
  const LlamaConfig& c = model.config();
  const int64_t rows = x.size(0);
  const at::ScalarType dtype = x.scalar_type();
  if (!k || (dtype != at::kFloat && dtype != at::kHalf && dtype != at::kBFloat16) || x.size(1) != 1 ||
      c.hidden_size % 32 != 0 || c.intermediate_size % 32 != 0 || !k->supports_head_dim(c.head_dim()) ||
      cache.batch() != rows || at::GradMode::is_enabled())  // the kernels have no backward
    return nullptr;
  const auto takes = [&](const quant::QuantizedMatrix& m) {
    return m.defined() && quant::takes_quantized_input(m, x.device(), rows);
  };
  const auto dense_in_dtype = [&](const at::Tensor& w) { return w.defined() && w.scalar_type() == dtype; };
  bool all_quantised = true, all_dense = true;
  for (const auto& layer : model.model->typed_layers) {
    std::vector<quant::QuantizedMatrix> matrices = llama_qkv_matrices(*layer->self_attn);
    for (const quant::QuantizedMatrix& m : llama_gate_up_matrices(*layer->mlp)) matrices.push_back(m);
    matrices.push_back(layer->self_attn->o_proj->matrix());
    matrices.push_back(layer->mlp->down_proj->matrix());
    for (const quant::QuantizedMatrix& m : matrices) all_quantised = all_quantised && takes(m);
    all_dense = all_dense && dense_in_dtype(layer->self_attn->qkv_weight()) &&
                dense_in_dtype(layer->mlp->gate_up_weight()) && dense_in_dtype(layer->self_attn->o_proj->weight) &&
                dense_in_dtype(layer->mlp->down_proj->weight);
  }
  all_quantised = all_quantised && k->rms_norm_quantize && k->rotary_attention_quantize && k->silu_mul_quantize;
  all_dense = all_dense && k->decode_attention && k->silu_mul;
  dense = !all_quantised && all_dense;
  return all_quantised || all_dense ? k : nullptr;
}

// The decode step of a quantised model: h (B, hidden), the residual stream; returns the last h.
at::Tensor llama_quantised_layers(LlamaForCausalLMImpl& model, const fused::DecodeKernels& k, at::Tensor h,
                                  const at::Tensor& cos, const at::Tensor& sin, KVCache& cache,
                                  const at::Tensor& tickets) {
  const at::ScalarType dtype = h.scalar_type();
  for (size_t i = 0; i < model.model->typed_layers.size(); ++i) {
    LlamaDecoderLayerImpl& layer = *model.model->typed_layers[i];
    LlamaAttentionImpl& attention = *layer.self_attn;
    const auto [keys, values] = cache.layer(static_cast<int64_t>(i));
    const quant::QuantizedInput normed =
        k.rms_norm_quantize(h, layer.input_layernorm->weight, layer.input_layernorm->eps());
    const at::Tensor qkv = llama_joined_product(normed, llama_qkv_matrices(attention), dtype);
    const quant::QuantizedInput attended = k.rotary_attention_quantize(
        qkv, attention.heads(), attention.kv_heads(), cos, sin, cache.position(), keys, values, tickets);
    const at::Tensor after_attention = quant::linear(attended, attention.o_proj->matrix(), dtype, h);
    const quant::QuantizedInput normed_again = k.rms_norm_quantize(
        after_attention, layer.post_attention_layernorm->weight, layer.post_attention_layernorm->eps());
    const at::Tensor gate_up = llama_joined_product(normed_again, llama_gate_up_matrices(*layer.mlp), dtype);
    h = quant::linear(k.silu_mul_quantize(gate_up), layer.mlp->down_proj->matrix(), dtype, after_attention);
  }
  return h;
}

// The decode step of a dense model, as above: the residual stream `h` is one buffer, a copy of
// the embeddings, that the o and down products add into.
at::Tensor llama_dense_layers(LlamaForCausalLMImpl& model, const fused::DecodeKernels& k, const at::Tensor& x,
                              const at::Tensor& cos, const at::Tensor& sin, KVCache& cache,
                              const at::Tensor& tickets) {
  at::Tensor h = x.clone();
  for (size_t i = 0; i < model.model->typed_layers.size(); ++i) {
    LlamaDecoderLayerImpl& layer = *model.model->typed_layers[i];
    LlamaAttentionImpl& attention = *layer.self_attn;
    const auto [keys, values] = cache.layer(static_cast<int64_t>(i));
    const at::Tensor qkv = at::mm(layer.input_layernorm(h), attention.qkv_weight().t());
    const at::Tensor attended = k.decode_attention(qkv, {}, attention.heads(), attention.kv_heads(), cos, sin,
                                                   cache.position(), keys, values, tickets);
    h.addmm_(attended, attention.o_proj->weight.t());
    const at::Tensor gate_up = at::mm(layer.post_attention_layernorm(h), layer.mlp->gate_up_weight().t());
    h.addmm_(k.silu_mul(gate_up), layer.mlp->down_proj->weight.t());
  }
  return h;
}

}  // namespace

std::optional<at::Tensor> LlamaForCausalLMImpl::fused_decode_step(const at::Tensor& x, KVCache& cache) {
  bool dense = false;
  const fused::DecodeKernels* k = llama_fused_kernels(*this, x, cache, dense);
  if (!k) return std::nullopt;
  const int64_t rows = x.size(0);
  const at::ScalarType dtype = x.scalar_type();
  const auto& [cos, sin] = rotary_for(x);
  // The attention's thread blocks count the chunks of a sequence and head done here, to find the
  // last one, which combines them.
  const at::Tensor& tickets = cache.counters(rows * config_.num_attention_heads);
  const at::Tensor x2d = x.reshape({rows, config_.hidden_size}).contiguous();
  const at::Tensor h = dense ? llama_dense_layers(*this, *k, x2d, cos, sin, cache, tickets)
                             : llama_quantised_layers(*this, *k, x2d, cos, sin, cache, tickets);
  cache.advance_position();
  const quant::QuantizedMatrix head = lm_head->matrix();
  at::Tensor logits;
  if (!dense && head.defined() && quant::takes_quantized_input(head, x.device(), rows)) {
    logits = quant::linear(k->rms_norm_quantize(h, model->norm->weight, model->norm->eps()), head, dtype);
  } else {
    logits = lm_head(model->norm(h));
  }
  return logits.view({rows, 1, config_.vocab_size});
}

}  // namespace mlspeed::llama
