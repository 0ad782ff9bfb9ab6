// The fused kernels of a decode step on CUDA (fused/cuda/): eight kernels a Llama layer where the
// unfused step runs about twenty. Registered at start-up by the CUDA build (fused/cuda/register.cu);
// models/llama_fused_decode.cpp strings them together with quant::linear's quantised-input product:
//
//   rms_norm_quantize -> qkv product -> rotary_attention_quantize -> o product + x
//   -> rms_norm_quantize -> gate/up product -> silu_mul_quantize -> down product + h
//
// and, for a model of 16-bit (or float32) weights, with cuBLAS's products (eight kernels a layer, the
// norms LibTorch's):
//
//   rms_norm -> qkv product -> decode_attention -> o product into h -> rms_norm -> gate/up product
//   -> silu_mul -> down product into h
//
// and GPT-2's (models/gpt2_fused_decode.cpp), the biases added by the kernels after cuBLAS's
// products, eight kernels a layer:
//
//   qkv product -> decode_attention (+ bias) -> proj product -> add_layer_norm (+ bias)
//   -> fc product -> bias_gelu -> proj product -> add_layer_norm (+ bias, the next layer's norm)
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
  // GPT-2's residual add and the LayerNorm after it: h (B, C) += y + bias (bias may be undefined),
  // in place; returns LayerNorm(h) with gamma, beta and eps. All of h's dtype.
  at::Tensor (*add_layer_norm)(at::Tensor& h, const at::Tensor& y, const at::Tensor& bias, const at::Tensor& gamma,
                               const at::Tensor& beta, double eps) = nullptr;
  // gelu(x + bias), tanh approximation (Hugging Face's gelu_new): x (B, N), bias (N).
  at::Tensor (*bias_gelu)(const at::Tensor& x, const at::Tensor& bias) = nullptr;
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
