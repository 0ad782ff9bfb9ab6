// The small models the fused steps' tests run (src/mlspeed/fused/*_test.cpp), on the CPU through
// the kernels' references and on CUDA through the kernels: a Llama of grouped-query heads and a
// GPT-2 whose biases and norm parameters are away from their initial zeros and ones, so that a
// step that drops one is seen.
#pragma once

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cstdint>
#include <string>

#include "mlspeed/models/gpt2.h"
#include "mlspeed/models/llama.h"

namespace mlspeed::testing {

// 2 layers of hidden 256, 4 query heads sharing 2 key/value heads (head_dim 64), 64 positions.
inline llama::LlamaConfig fused_test_llama_config() {
  llama::LlamaConfig c;
  c.vocab_size = 256;
  c.hidden_size = 256;
  c.intermediate_size = 512;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  return c;
}

// 3 layers of 128 with 2 heads (head_dim 64), 64 positions; on the CPU in float32.
inline gpt2::GPT2Model fused_test_gpt2(int64_t vocab) {
  gpt2::GPT2Config config;
  config.vocab_size = vocab;
  config.n_positions = 64;
  config.n_embd = 128;
  config.n_layer = 3;
  config.n_head = 2;
  torch::manual_seed(3);
  gpt2::GPT2Model model(config);
  at::NoGradGuard no_grad;
  for (auto& p : model->named_parameters())
    if (p.key().find("bias") != std::string::npos || p.key().find("ln_") != std::string::npos)
      p.value().add_(at::randn_like(p.value()) * 0.1);
  return model;
}

}  // namespace mlspeed::testing
