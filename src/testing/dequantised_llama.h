// The dense Llama of a quantised one's own weights: every quantised matrix and embedding
// dequantised (quant::dequantize) into float32 parameters, everything else copied. What a
// quantised model must compute, up to the rounding of its products (llama_gguf_cpu_test.cpp,
// llama_gguf_gpu_test.cpp).
#pragma once

#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include "mlspeed/models/llama.h"
#include "mlspeed/quant/quantized_matrix.h"

namespace mlspeed::testing {

inline llama::LlamaForCausalLM dequantised_dense(llama::LlamaForCausalLM& quantised, const at::Device& device) {
  const llama::LlamaConfig& c = quantised->config();
  llama::LlamaForCausalLM dense(c, at::TensorOptions().device(device).dtype(at::kFloat));
  c10::InferenceMode normal(false);
  torch::NoGradGuard no_grad;
  auto dense_params = dense->named_parameters();
  for (const auto& item : quantised->named_parameters()) dense_params[item.key()].copy_(item.value());
  for (const auto& module : quantised->named_modules()) {
    const auto* linear = module.value()->as<llama::Linear>();
    const auto* embedding = module.value()->as<llama::Embedding>();
    if (linear && linear->blocks.defined())
      dense_params[module.key() + ".weight"].copy_(quant::dequantize(linear->matrix(), at::kFloat));
    if (embedding && embedding->blocks.defined())
      dense_params[module.key() + ".weight"].copy_(
          quant::dequantize({embedding->format, c.vocab_size, c.hidden_size, embedding->blocks}, at::kFloat));
  }
  return dense;
}

}  // namespace mlspeed::testing
