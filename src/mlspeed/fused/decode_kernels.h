// The fused kernels of a decode step on CUDA (fused/cuda/): eight kernels a Llama layer where the
// unfused step runs about twenty. Registered at start-up by the CUDA build (fused/cuda/register.cu);
// models/llama_fused_decode.cpp strings them together with quant::linear's quantised-input product:
//
//   rms_norm_quantize -> qkv product -> rotary_attention_quantize -> o product + x
//   -> rms_norm_quantize -> gate/up product -> silu_mul_quantize -> down product + h
//
// and, for a Llama of 16-bit (or float32) weights, with cuBLAS's products (eight kernels a layer,
// the norms LibTorch's):
//
//   rms_norm -> qkv product -> decode_attention -> o product into h -> rms_norm -> gate/up product
//   -> silu_mul -> down product into h
//
// GPT-2's step (models/gpt2_fused_decode.cpp) takes `product` (fused/cuda/decode_product.cu), which
// takes the norm before a product and the bias, GELU and residual add after it: five kernels a layer,
//
//   ln_1 + qkv product -> decode_attention (+ bias) -> proj product + bias + h
//   -> ln_2 + fc product + bias + GELU -> proj product + bias + h
//
// Each computes what the unfused LibTorch ops compute, rounded where they round (to within the
// order of a few float32 sums); the outputs that feed a quantised product come out as its
// quantised input (quant::QuantizedInput), the others as activations of the input's dtype. One
// token per sequence (1 to quant::kCudaGemvRows sequences for a quantised product); activations
// float32, float16 or bfloat16, contiguous.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

#include "mlspeed/quant/quantized_matrix.h"

namespace mlspeed::fused {

// What a decode product (DecodeKernels::product) does before and after multiplying.
struct ProductSteps {
  enum class Norm { none, layer, rms };
  Norm norm = Norm::none;  // over each row of x: LayerNorm (norm_weight, norm_bias, eps) or RMSNorm
  at::Tensor norm_weight, norm_bias;  // (K); norm_bias may be undefined
  double eps = 0.0;
  at::Tensor bias;         // (N), may be undefined
  bool gelu = false;       // tanh approximation (gelu_new), after the bias
  at::Tensor residual;     // (B, N), may be undefined: y added into it in place, and it returned
};

struct DecodeKernels {
  // x (B, hidden) * rsqrt(mean(x^2) + eps) * weight (hidden), rounded to x's dtype (as
  // compat::fused_rms_norm), quantised.
  quant::QuantizedInput (*rms_norm_quantize)(const at::Tensor& x, const at::Tensor& weight, double eps) = nullptr;
  // One layer's attention of a decode step, from qkv (B, (heads + 2 kv_heads) head_dim): q and k
  // rotated by the rows at `position` (int64 (1,) on the device) of the rotary tables cos and
  // signed sin ((positions, head_dim), x's dtype: models/llama.h's apply_rotary), k and v written
  // at `position` of keys and values (B, kv_heads, capacity, head_dim: one layer of a KVCache),
  // then softmax(q k^T / sqrt(head_dim)) v over positions 0..position (grouped-query: query head
  // h reads kv head h / (heads / kv_heads)), rounded to the dtype, quantised as (B, heads *
  // head_dim). head_dim 64, 128 or 256. `tickets`: at least B * heads int32 zeros on the device,
  // left at zero (KVCache::counters).
  quant::QuantizedInput (*rotary_attention_quantize)(const at::Tensor& qkv, int64_t heads, int64_t kv_heads,
                                                     const at::Tensor& cos, const at::Tensor& sin,
                                                     const at::Tensor& position, const at::Tensor& keys,
                                                     const at::Tensor& values, const at::Tensor& tickets) = nullptr;
  // silu(gate) * up of gate_up (B, 2 ffn) = [gate | up], each op rounded to its dtype, quantised
  // as (B, ffn).
  quant::QuantizedInput (*silu_mul_quantize)(const at::Tensor& gate_up) = nullptr;
  // rotary_attention_quantize with its output as activations in qkv's dtype, (B, heads *
  // head_dim), qkv plus `qkv_bias` ((heads + 2 kv_heads) head_dim, may be undefined: none), and
  // no rotation when cos and sin are undefined (GPT-2).
  at::Tensor (*decode_attention)(const at::Tensor& qkv, const at::Tensor& qkv_bias, int64_t heads, int64_t kv_heads,
                                 const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& position,
                                 const at::Tensor& keys, const at::Tensor& values,
                                 const at::Tensor& tickets) = nullptr;
  // silu_mul_quantize with its output as activations in gate_up's dtype, (B, ffn).
  at::Tensor (*silu_mul)(const at::Tensor& gate_up) = nullptr;
  // y = gelu?(norm(x) W + bias) for x (B, K) and a 16-bit (or float32) weight: W = weight^T for
  // weight (N, K) (nn.Linear's), weight itself (K, N) when in_by_out (GPT-2's Conv1D); with
  // steps.residual, residual += y in place and returned. One kernel, rounded where LibTorch's ops
  // (the norm, addmm, gelu, add) round. All of x's dtype, contiguous; K a multiple of 8, N too for
  // in_by_out.
  at::Tensor (*product)(const at::Tensor& x, const at::Tensor& weight, bool in_by_out,
                        const ProductSteps& steps) = nullptr;
  // Whether product takes a weight of these sizes (K, N), with or without a norm, in either layout.
  bool (*product_supports)(int64_t k, int64_t n, bool norm, bool in_by_out) = nullptr;
  // Whether rotary_attention_quantize takes this head_dim.
  bool (*supports_head_dim)(int64_t head_dim) = nullptr;
  // The device the kernels run on: CUDA (the CPU for the LibTorch-op references the CPU tests
  // register to check the steps that string them together, src/testing/reference_fused_kernels.h).
  c10::DeviceType device_type = c10::DeviceType::CUDA;
};

// Returns the kernels registered before.
DecodeKernels register_decode_kernels(const DecodeKernels& kernels);

// The kernels for tensors on `device` now: null unless they were registered for its type (by the
// CUDA build, at start-up) and mlspeed's own kernels are in force (core/kernel_set.h).
const DecodeKernels* decode_kernels(const at::Device& device);

}  // namespace mlspeed::fused
