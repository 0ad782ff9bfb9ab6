// GPT-2 (Radford et al. 2019) as Hugging Face's GPT2Model, the layout of the `gpt2` repository's
// model.safetensors, read top to bottom like the diagram:
//
//   idx (B,T) -> wte(idx) + wpe(past..past+T-1) -> drop
//             -> n_layer x Block (pre-norm):  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
//             -> ln_f -> head tied to wte -> logits (B,T,vocab)
//
// Parameter names and shapes are exactly the checkpoint's, so it loads with no renaming and no
// transposes:
//   wte.weight (vocab, n_embd), wpe.weight (n_positions, n_embd),
//   h.N.ln_1.{weight,bias}, h.N.attn.c_attn.{weight (n_embd, 3 n_embd), bias},
//   h.N.attn.c_proj.{weight (n_embd, n_embd), bias}, h.N.ln_2.{weight,bias},
//   h.N.mlp.c_fc.{weight (n_embd, 4 n_embd), bias}, h.N.mlp.c_proj.{weight (4 n_embd, n_embd), bias},
//   ln_f.{weight,bias}
// GPT-2's "Conv1D" is a linear layer that stores its weight as (in, out), the transpose of
// nn.Linear's: y = x @ W + b. The head is no module of its own: logits = x @ wte.weight^T, so
// the tied weight is one parameter (a GPT2LMHeadModel checkpoint's "lm_head.weight" is the same
// tensor under another name). HF's causal-mask buffers ("h.N.attn.bias", "h.N.attn.masked_bias")
// are not registered: masking is SDPA's is_causal, or the KV cache's (models/kv_cache.h).
//
// nanoGPT (models/gpt.h) is the same architecture with nn.Linear's layout and "transformer."
// names; the parameter and FLOP counts are shared with it through as_nanogpt().
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "mlspeed/io/weights.h"
#include "mlspeed/models/gpt.h"
#include "mlspeed/models/kv_cache.h"

namespace mlspeed::gpt2 {

// Defaults are the `gpt2` repository's config.json (GPT-2 small, 124M).
struct GPT2Config {
  int64_t vocab_size = 50257;
  int64_t n_positions = 1024;
  int64_t n_embd = 768;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  // HF's embd_pdrop, attn_pdrop and resid_pdrop in one (0.1 in config.json; nanoGPT's
  // train_gpt2.py trains with 0).
  double dropout = 0.0;
  double layer_norm_epsilon = 1e-5;
};

// HF's Conv1D: weight (in, out), bias (out); forward is addmm(bias, x, weight) on the input
// flattened to 2-D.
class Conv1DImpl : public torch::nn::Module {
 public:
  Conv1DImpl(int64_t in_features, int64_t out_features);
  at::Tensor forward(const at::Tensor& x);

  at::Tensor weight;
  at::Tensor bias;
};
TORCH_MODULE(Conv1D);

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const GPT2Config& config);
  // Without a cache: causal self-attention over x (B,T,C). With one: the keys and values of x
  // are written at the cache's current length for `layer`, and x attends to every cached
  // position before it and to itself (the caller advances the cache after the last layer).
  at::Tensor forward(const at::Tensor& x, KVCache* cache = nullptr, int64_t layer = 0);
  // Static decoding: x (B,1,C), one new token per sequence at the cache's device position; its
  // keys and values are written there and it attends over the whole cache with `mask`
  // (KVCache::decode_mask).
  at::Tensor decode(const at::Tensor& x, KVCache& cache, int64_t layer, const at::Tensor& mask);

  Conv1D c_attn{nullptr};  // q, k, v for all heads in one (C, 3C) matrix
  Conv1D c_proj{nullptr};
  torch::nn::Dropout resid_dropout{nullptr};

 private:
  // q, k, v of x (B,T,C), each (B, n_head, T, head_dim).
  std::vector<at::Tensor> project(const at::Tensor& x);
  // The heads of y (B, n_head, T, head_dim) side by side again, through c_proj.
  at::Tensor merge(const at::Tensor& y);

  int64_t n_head_;
  int64_t n_embd_;
  double dropout_;  // on the attention weights, inside sdpa, in training only
};
TORCH_MODULE(Attention);

class MLPImpl : public torch::nn::Module {
 public:
  explicit MLPImpl(const GPT2Config& config);
  at::Tensor forward(const at::Tensor& x);  // c_proj(gelu_new(c_fc(x))): GELU, tanh approximation

  Conv1D c_fc{nullptr};
  Conv1D c_proj{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(MLP);

class BlockImpl : public torch::nn::Module {
 public:
  explicit BlockImpl(const GPT2Config& config);
  at::Tensor forward(const at::Tensor& x, KVCache* cache = nullptr, int64_t layer = 0);
  at::Tensor decode(const at::Tensor& x, KVCache& cache, int64_t layer, const at::Tensor& mask);  // as Attention's

  torch::nn::LayerNorm ln_1{nullptr};
  Attention attn{nullptr};
  torch::nn::LayerNorm ln_2{nullptr};
  MLP mlp{nullptr};
};
TORCH_MODULE(Block);

class GPT2ModelImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises it as HF's GPT2PreTrainedModel and nanoGPT do: normal(0,
  // 0.02) for Conv1D and Embedding weights, normal(0, 0.02 / sqrt(2 n_layer)) for the residual
  // projections (every c_proj.weight), zero biases, LayerNorm weights 1. Draws from the global
  // generator.
  explicit GPT2ModelImpl(const GPT2Config& config);

  // Training and plain inference: idx int64 (B,T), T <= n_positions. Returns logits (B,T,vocab).
  at::Tensor forward(const at::Tensor& idx);
  // Training: the mean cross-entropy of targets (B,T) under the logits of idx (B,T), as
  // cross_entropy(forward(idx)); on CUDA through a head padded to an aligned vocabulary and the
  // fused cross-entropy of fused/cross_entropy.h (no float32 copy of the logits).
  at::Tensor loss(const at::Tensor& idx, const at::Tensor& targets);
  // Generation: idx (B,T) continues the sequence held in `cache` (positions cache.length()
  // onwards); fills and advances the cache. Returns the logits of the last position only
  // (B,vocab): nothing else is needed to pick the next token.
  at::Tensor forward_cached(const at::Tensor& idx, KVCache& cache);
  // Static decoding (a step a CUDA graph can replay): idx (B,1), one new token per sequence at
  // the cache's device position (KVCache::position(), not length()); its position embedding is
  // the row of wpe at that position, its keys and values are written there, and the device
  // position is advanced. Returns the logits (B,vocab), the same as forward_cached's at that
  // position, without reading any device value on the host.
  at::Tensor decode_step(const at::Tensor& idx, KVCache& cache);
  // decode_step from the embeddings x (B, 1, n_embd) through the fused kernels of
  // fused/decode_kernels.h, when they can take it: a CUDA device with mlspeed's kernels, float32,
  // float16 or bfloat16, no dropout (models/gpt2_fused_decode.cpp). Eight kernels a layer in place
  // of about fourteen, attention over the filled positions only; the same logits up to the order
  // of float32 sums. Empty when they cannot; then decode_step takes LibTorch's ops.
  std::optional<at::Tensor> fused_decode_step(const at::Tensor& x, KVCache& cache);

  // The final hidden states after ln_f (B,T,n_embd); with a cache, as forward_cached.
  at::Tensor hidden_states(const at::Tensor& idx, KVCache* cache);
  // hidden_states without a cache from the embeddings x, each residual add and the LayerNorm after
  // it one fused node (fused/residual_layer_norm.h: the stream float32, the norms' outputs in the
  // branches' dtype, as autocast's products take them), where the fused kernels take the tensors;
  // empty otherwise.
  std::optional<at::Tensor> fused_hidden_states(const at::Tensor& x);
  at::Tensor head(const at::Tensor& hidden) const;  // hidden @ wte.weight^T

  // An empty cache for `batch` sequences of up to `max_len` positions, in the model's dtype and
  // on its device.
  KVCache make_cache(int64_t batch, int64_t max_len) const;

  const GPT2Config& config() const { return config_; }

  torch::nn::Embedding wte{nullptr};
  torch::nn::Embedding wpe{nullptr};
  torch::nn::Dropout drop{nullptr};
  torch::nn::ModuleList h{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};

 private:
  void init_weights();

  GPT2Config config_;
  std::vector<Block> blocks_;  // the modules of `h`, typed
};
TORCH_MODULE(GPT2Model);

// How Hugging Face checkpoints name GPT2Model's tensors, for load_weights: the gpt2 repository's
// GPT2Model file loads as it is; a GPT2LMHeadModel file has "transformer." before every name and
// the tied head as "lm_head.weight"; HF's causal-mask buffers ("h.N.attn.bias",
// "h.N.attn.masked_bias") are skipped.
WeightsOptions checkpoint_names();

// The same architecture in nanoGPT's terms (nanoGPT's own GPT.from_pretrained('gpt2') config:
// bias, block_size = n_positions), for the counts shared with nanoGPT.
nanogpt::GPTConfig as_nanogpt(const GPT2Config& config);

// Every parameter once, the position embedding and the tied head included: 124,439,808 for
// GPT-2 small, as Hugging Face and the model card count it.
int64_t count_params(const GPT2Config& config);
int64_t num_params(const GPT2ModelImpl& model);  // the same, from a built model

// nanoGPT's N for estimate_mfu: get_num_params() with its default non_embedding=True, i.e.
// every parameter less the position embedding (the tied wte stays in: it is the head's matmul).
// 123,653,376 for GPT-2 small.
int64_t mfu_params(const GPT2Config& config);

// Training FLOPs per token at sequence length `seq`, nanoGPT's estimate_mfu:
// 6N + 12 * n_layer * n_head * head_dim * seq with N = mfu_params (see nanogpt's function).
double training_flops_per_token(const GPT2Config& config, int64_t seq);

// Forward FLOPs of one greedy generation of `new_tokens` tokens after a `prompt`-token prompt,
// per sequence, with a KV cache. The prompt and every new token but the last are fed through
// the model once: P = prompt + new_tokens - 1 positions, position p (0-based) attending to the
// p + 1 cached positions up to itself. Each costs 2 (N - V C) for the layers' matrices (N =
// mfu_params, V C the tied head) plus 4 n_layer n_embd (p + 1) for attention (q.k and
// weights.v); the head (2 V C) runs once per new token, on the last position only:
//   2 (N - V C) P + 4 L C P (P + 1) / 2 + 2 V C new_tokens.
// LayerNorms, GELU, softmax and the embedding lookups are left out, as nanoGPT leaves them out.
double generation_flops(const GPT2Config& config, int64_t prompt, int64_t new_tokens);

// The fewest bytes one generated token reads from device memory in a decode step (the roofline
// of decoding, which is bound by memory, not FLOPs), with `element_size` bytes per weight and
// per cached element:
//   (N / batch + 2 L C (prompt + new_tokens / 2)) element_size
// N = mfu_params: every weight the token multiplies by once, the tied wte whole (the head reads
// all of it; the lookup's one row is part of it) and wpe left out (one row is read). A decode
// step reads the weights once for its `batch` tokens. The cache term is the keys and values of
// every layer over the context the token attends to: decode step j (1 <= j < new_tokens) feeds
// the token at position prompt + j - 1 and attends over prompt + j positions, a mean of
// prompt + new_tokens / 2. 0 without a decode step (new_tokens < 2: the step is the prompt pass).
double decode_bytes_per_token(const GPT2Config& config, int64_t prompt, int64_t new_tokens, int64_t batch,
                              int64_t element_size);

}  // namespace mlspeed::gpt2
