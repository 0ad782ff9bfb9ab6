// nanoGPT (karpathy/nanoGPT, model.py) in LibTorch, read top to bottom like the diagram:
//
//   idx (B,T) -> wte(idx) + wpe(0..T-1) -> dropout
//             -> n_layer x Block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
//             -> ln_f -> lm_head (tied to wte) -> logits (B,T,vocab)
//
// Submodules carry nanoGPT's names, so the state dict is a nanoGPT checkpoint's:
//   transformer.wte.weight, transformer.wpe.weight,
//   transformer.h.N.ln_1.{weight,bias}, transformer.h.N.attn.c_attn.{weight,bias},
//   transformer.h.N.attn.c_proj.{weight,bias}, transformer.h.N.ln_2.{weight,bias},
//   transformer.h.N.mlp.c_fc.{weight,bias}, transformer.h.N.mlp.c_proj.{weight,bias},
//   transformer.ln_f.{weight,bias}
// (no bias entries at all when GPTConfig::bias is false).
//
// The output head is weight-tied: nanoGPT sets `transformer.wte.weight = lm_head.weight`, so
// its state dict lists `lm_head.weight` too, as the same tensor. Here the head is no module of
// its own: logits = x @ transformer.wte.weight^T, so the tied weight appears exactly once in
// parameters() (counted once, optimised once). A checkpoint's `lm_head.weight` loads into
// `transformer.wte.weight`; when saving, write it under both names.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/moduledict.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "mlspeed/models/linear.h"

namespace mlspeed::nanogpt {

struct GPTConfig {
  int64_t vocab_size = 50304;
  int64_t block_size = 1024;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_embd = 768;
  double dropout = 0.0;
  bool bias = true;  // biases in Linears and LayerNorms, as GPT-2; false is a bit better and faster
};

// LayerNorm with an optional bias (nn.LayerNorm cannot drop only the bias). eps 1e-5.
class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t ndim, bool bias);
  at::Tensor forward(const at::Tensor& x);

  at::Tensor weight;
  at::Tensor bias;  // undefined, and no parameter, when bias is false
};
TORCH_MODULE(LayerNorm);

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const GPTConfig& config);
  at::Tensor forward(const at::Tensor& x);

  mlspeed::nn::Linear c_attn{nullptr};  // q, k, v for all heads in one matrix
  mlspeed::nn::Linear c_proj{nullptr};
  torch::nn::Dropout resid_dropout{nullptr};

 private:
  int64_t n_head_;
  int64_t n_embd_;
  double dropout_;  // on the attention weights, inside sdpa, in training only
};
TORCH_MODULE(CausalSelfAttention);

class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const GPTConfig& config);
  at::Tensor forward(const at::Tensor& x);

  mlspeed::nn::Linear c_fc{nullptr};
  mlspeed::nn::Linear c_proj{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(MLP);

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const GPTConfig& config);
  at::Tensor forward(const at::Tensor& x);

  LayerNorm ln_1{nullptr};
  CausalSelfAttention attn{nullptr};
  LayerNorm ln_2{nullptr};
  MLP mlp{nullptr};
};
TORCH_MODULE(Block);

class GPTImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises it as nanoGPT does: normal(0, 0.02) for Linear and
  // Embedding weights, normal(0, 0.02 / sqrt(2 * n_layer)) for the residual projections
  // (every c_proj.weight), zero biases, LayerNorm weights 1. Draws from the global generator.
  explicit GPTImpl(const GPTConfig& config);
  // idx: int64 token ids (B, T) with T <= block_size. Returns logits (B, T, vocab_size).
  at::Tensor forward(const at::Tensor& idx);
  // ln_f's output from the embeddings x with each residual add and the LayerNorm after it one
  // fused node (fused/residual_layer_norm.h), where mlspeed's kernels take the tensors (CUDA);
  // empty otherwise.
  std::optional<at::Tensor> fused_blocks(const at::Tensor& x);

  const GPTConfig& config() const { return config_; }

  torch::nn::ModuleDict transformer{nullptr};  // holds the modules below under their names
  torch::nn::Embedding wte{nullptr};
  torch::nn::Embedding wpe{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};
  LayerNorm ln_f{nullptr};

 private:
  void init_weights();

  GPTConfig config_;
  std::vector<Block> blocks_;  // the modules of `h`, typed
};
TORCH_MODULE(GPT);

// nanoGPT's get_num_params: every parameter once (the tied head counted once), less the
// position embedding when non_embedding is true, as nanoGPT reports model sizes.
int64_t num_params(const GPTImpl& model, bool non_embedding = true);

// The same count from the configuration alone, without building the model (12 n_embd^2 + the
// LayerNorms and biases per layer, ln_f, wte, and wpe unless non_embedding).
int64_t count_params(const GPTConfig& config, bool non_embedding = true);

// nanoGPT's estimate_mfu count of training FLOPs per token at sequence length `seq`:
// 6N + 12 * n_layer * n_head * head_dim * seq, with N = num_params(non_embedding = true).
double training_flops_per_token(const GPTConfig& config, int64_t non_embedding_params, int64_t seq);

}  // namespace mlspeed::nanogpt
