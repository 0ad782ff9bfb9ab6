// The fused kernels of a Llama decode step on CUDA (fused/cuda/): eight kernels a layer where the
// unfused step runs about twenty. Registered at start-up by the CUDA build (fused/cuda/register.cu);
// models/llama_fused_decode.cpp strings them together with quant::linear's quantised-input product:
//
//   rms_norm_quantize -> qkv product -> rotary_attention_quantize -> o product + x
//   -> rms_norm_quantize -> gate/up product -> silu_mul_quantize -> down product + h
//
// Each computes what the unfused LibTorch ops compute, rounded where they round (to within the
// order of a few float32 sums); the outputs that feed a quantised product come out as its
// quantised input (quant::QuantizedInput). One token per sequence, 1 to quant::kCudaGemvRows
// sequences; activations float32, float16 or bfloat16, contiguous.
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
  // Whether rotary_attention_quantize takes this head_dim.
  bool (*supports_head_dim)(int64_t head_dim) = nullptr;
};

void register_decode_kernels(const DecodeKernels& kernels);

// The kernels for tensors on `device` now: null unless the device is CUDA, the CUDA build
// registered them and mlspeed's own kernels are in force (core/kernel_set.h).
const DecodeKernels* decode_kernels(const at::Device& device);

}  // namespace mlspeed::fused
