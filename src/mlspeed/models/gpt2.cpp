#include "mlspeed/models/gpt2.h"

#include <torch/nn/options/normalization.h>
#include <torch/utils.h>

#include <cmath>
#include <limits>
#include <string>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/fused/cross_entropy.h"
#include "mlspeed/fused/kernel_fault.h"
#include "mlspeed/fused/residual_layer_norm.h"
#include "mlspeed/models/pre_norm_stack.h"

namespace mlspeed::gpt2 {
namespace {

torch::nn::LayerNorm layer_norm(const GPT2Config& config) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.n_embd}).eps(config.layer_norm_epsilon));
}

// The tied head for training on CUDA: the vocabulary padded with rows of zeros to a multiple of
// 64, and the padded columns' logits set to -inf by the bias of the same GEMM. GPT-2's 50,257
// words leave every row of the logits and of their gradient at an odd stride, and cuBLAS then
// runs slow unaligned kernels for the head's three products (cutlass_75 ... align1: 22.9 of a
// 52.3 ms gpt2-train step on an H200, mlspeed run --profile); at 50,304 they run aligned. A -inf
// logit has probability 0 and gradient 0, so the loss and every gradient are the unpadded
// head's. nanoGPT trains GPT-2 with a vocabulary padded to 50,304 for the same reason.
at::Tensor padded_training_logits(const at::Tensor& hidden, const at::Tensor& weight) {
  const int64_t vocab = weight.size(0), padded = (vocab + 63) / 64 * 64;
  if (!hidden.is_cuda() || padded == vocab) return at::linear(hidden, weight);
  const at::Tensor bias = at::constant_pad_nd(at::zeros({vocab}, weight.options()), {0, padded - vocab},
                                              -std::numeric_limits<double>::infinity());
  return at::linear(hidden, at::constant_pad_nd(weight, {0, 0, 0, padded - vocab}), bias);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Conv1DImpl::Conv1DImpl(int64_t in_features, int64_t out_features) {
  weight = register_parameter("weight", at::empty({in_features, out_features}));
  bias = register_parameter("bias", at::zeros({out_features}));
}

at::Tensor Conv1DImpl::forward(const at::Tensor& x) {
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = weight.size(1);
  return at::addmm(bias, x.reshape({-1, weight.size(0)}), weight).view(shape);
}

AttentionImpl::AttentionImpl(const GPT2Config& config)
    : c_attn(register_module("c_attn", Conv1D(config.n_embd, 3 * config.n_embd))),
      c_proj(register_module("c_proj", Conv1D(config.n_embd, config.n_embd))),
      resid_dropout(register_module("resid_dropout", torch::nn::Dropout(config.dropout))),
      n_head_(config.n_head),
      n_embd_(config.n_embd),
      dropout_(config.dropout) {
  TORCH_CHECK(config.n_head > 0 && config.n_embd % config.n_head == 0, "[GPT-2] n_embd ", config.n_embd,
              " is not a multiple of n_head ", config.n_head);
}

std::vector<at::Tensor> AttentionImpl::project(const at::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  std::vector<at::Tensor> qkv = c_attn(x).split(n_embd_, /*dim=*/2);
  // (B, T, C) -> (B, n_head, T, head_dim)
  for (at::Tensor& t : qkv) t = t.view({B, T, n_head_, C / n_head_}).transpose(1, 2);
  return qkv;
}

at::Tensor AttentionImpl::merge(const at::Tensor& y) {
  const int64_t B = y.size(0), T = y.size(2);
  // (B, n_head, T, head_dim) -> (B, T, C): no copy for one token, whose heads are already adjacent
  return resid_dropout(c_proj(y.transpose(1, 2).contiguous().view({B, T, n_embd_})));
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, KVCache* cache, int64_t layer) {
  const std::vector<at::Tensor> qkv = project(x);
  const at::Tensor &q = qkv[0], &k = qkv[1], &v = qkv[2];
  if (cache == nullptr) return merge(compat::sdpa(q, k, v, /*is_causal=*/true, is_training() ? dropout_ : 0.0));
  const int64_t past = cache->length();
  const auto [keys, values] = cache->append(layer, k, v);
  return merge(cached_attention(q, keys, values, past));
}

at::Tensor AttentionImpl::decode(const at::Tensor& x, KVCache& cache, int64_t layer, const at::Tensor& mask) {
  const std::vector<at::Tensor> qkv = project(x);
  const auto [keys, values] = cache.write_at_position(layer, qkv[1], qkv[2]);
  return merge(decode_attention(qkv[0], keys, values, mask));
}

MLPImpl::MLPImpl(const GPT2Config& config)
    : c_fc(register_module("c_fc", Conv1D(config.n_embd, 4 * config.n_embd))),
      c_proj(register_module("c_proj", Conv1D(4 * config.n_embd, config.n_embd))),
      dropout(register_module("dropout", torch::nn::Dropout(config.dropout))) {}

at::Tensor MLPImpl::forward(const at::Tensor& x) {
  return dropout(c_proj(at::gelu(c_fc(x), "tanh")));  // HF's "gelu_new"
}

BlockImpl::BlockImpl(const GPT2Config& config)
    : ln_1(register_module("ln_1", layer_norm(config))),
      attn(register_module("attn", Attention(config))),
      ln_2(register_module("ln_2", layer_norm(config))),
      mlp(register_module("mlp", MLP(config))) {}

at::Tensor BlockImpl::forward(const at::Tensor& x, KVCache* cache, int64_t layer) {
  const at::Tensor y = x + attn(ln_1(x), cache, layer);
  return y + mlp(ln_2(y));
}

at::Tensor BlockImpl::decode(const at::Tensor& x, KVCache& cache, int64_t layer, const at::Tensor& mask) {
  // The verifier's faults (fused/kernel_fault.h), as the fused decode kernels take them.
  const fused::KernelFault fault = fused::kernel_fault();
  at::Tensor attended = attn->decode(ln_1(x), cache, layer, mask);
  if (fault == fused::KernelFault::residual_bias_dropped) attended = attended - attn->c_proj->bias;
  const at::Tensor y = x + attended;
  if (fault == fused::KernelFault::gelu_bias_doubled)
    return y + mlp->c_proj(at::gelu(mlp->c_fc(ln_2(y)) + mlp->c_fc->bias, "tanh"));
  if (fault == fused::KernelFault::residual_bias_dropped) return y + (mlp(ln_2(y)) - mlp->c_proj->bias);
  return y + mlp(ln_2(y));
}

GPT2ModelImpl::GPT2ModelImpl(const GPT2Config& config) : config_(config) {
  TORCH_CHECK(config.vocab_size > 0 && config.n_positions > 0 && config.n_layer > 0 && config.n_embd > 0,
              "[GPT-2] vocab_size, n_positions, n_layer and n_embd must be positive");
  wte = register_module("wte", torch::nn::Embedding(config.vocab_size, config.n_embd));
  wpe = register_module("wpe", torch::nn::Embedding(config.n_positions, config.n_embd));
  drop = register_module("drop", torch::nn::Dropout(config.dropout));
  h = register_module("h", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.n_layer; ++i) {
    blocks_.emplace_back(config);
    h->push_back(blocks_.back());
  }
  ln_f = register_module("ln_f", layer_norm(config));
  init_weights();
}

void GPT2ModelImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<Conv1D>()) {
      conv->weight.normal_(0.0, 0.02);
      conv->bias.zero_();
    } else if (auto* emb = module->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, 0.02);
    }
  }
  // GPT-2's scaled init of the projections that write into the residual stream.
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config_.n_layer));
  for (auto& item : named_parameters())
    if (ends_with(item.key(), "c_proj.weight")) item.value().normal_(0.0, residual_std);
}

at::Tensor GPT2ModelImpl::hidden_states(const at::Tensor& idx, KVCache* cache) {
  const int64_t T = idx.size(1);
  const int64_t past = cache ? cache->length() : 0;
  TORCH_CHECK(past + T <= config_.n_positions, "[GPT-2] cannot process position ", past + T - 1, ": the model has ",
              config_.n_positions, " positions");
  // Token + position embeddings, (B, T, n_embd); positions past..past+T-1 as a slice of wpe.
  at::Tensor x = drop(wte(idx) + wpe->weight.narrow(0, past, T));
  if (!cache)
    if (std::optional<at::Tensor> fused = fused_hidden_states(x)) return *fused;
  for (size_t i = 0; i < blocks_.size(); ++i) x = blocks_[i](x, cache, static_cast<int64_t>(i));
  if (cache) cache->advance(T);
  return ln_f(x);
}

std::optional<at::Tensor> GPT2ModelImpl::fused_hidden_states(const at::Tensor& x) {
  const auto norm = [](const torch::nn::LayerNormImpl& n) {
    return fused::NormParameters{n.weight, n.bias, n.options.eps()};
  };
  return fused::pre_norm_blocks(x, pre_norm_stack(blocks_, ln_f, norm));
}

at::Tensor GPT2ModelImpl::head(const at::Tensor& hidden) const { return at::linear(hidden, wte->weight); }

at::Tensor GPT2ModelImpl::forward(const at::Tensor& idx) { return head(hidden_states(idx, nullptr)); }

at::Tensor GPT2ModelImpl::loss(const at::Tensor& idx, const at::Tensor& targets) {
  const at::Tensor logits = padded_training_logits(hidden_states(idx, nullptr), wte->weight);
  return fused::cross_entropy(logits.view({-1, logits.size(-1)}), targets.reshape(-1));
}

at::Tensor GPT2ModelImpl::forward_cached(const at::Tensor& idx, KVCache& cache) {
  return head(hidden_states(idx, &cache).select(1, -1));
}

at::Tensor GPT2ModelImpl::decode_step(const at::Tensor& idx, KVCache& cache) {
  TORCH_CHECK(idx.dim() == 2 && idx.size(1) == 1, "[GPT-2] a decode step takes one token per sequence, got ",
              idx.sizes());
  TORCH_CHECK(cache.max_length() <= config_.n_positions, "[GPT-2] a cache of ", cache.max_length(),
              " positions exceeds the model's ", config_.n_positions);
  at::Tensor x = drop(wte(idx) + wpe->weight.index_select(0, cache.position()));  // (B,1,C) + (1,C)
  if (auto fused = fused_decode_step(x, cache)) return *fused;
  const at::Tensor mask = cache.decode_mask(wte->weight.scalar_type());
  for (size_t i = 0; i < blocks_.size(); ++i) x = blocks_[i]->decode(x, cache, static_cast<int64_t>(i), mask);
  cache.advance_position();
  return head(ln_f(x).select(1, -1));
}

KVCache GPT2ModelImpl::make_cache(int64_t batch, int64_t max_len) const {
  return KVCache(config_.n_layer, batch, config_.n_head, max_len, config_.n_embd / config_.n_head,
                 wte->weight.options());
}

WeightsOptions checkpoint_names() {
  return WeightsOptions{{".attn.bias", ".attn.masked_bias"}, {{"lm_head.weight", "wte.weight"}}, "transformer.", {}, {}};
}

nanogpt::GPTConfig as_nanogpt(const GPT2Config& c) {
  return nanogpt::GPTConfig{c.vocab_size, c.n_positions, c.n_layer, c.n_head, c.n_embd, c.dropout, /*bias=*/true};
}

int64_t count_params(const GPT2Config& config) {
  return nanogpt::count_params(as_nanogpt(config), /*non_embedding=*/false);
}

int64_t num_params(const GPT2ModelImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

int64_t mfu_params(const GPT2Config& config) {
  return nanogpt::count_params(as_nanogpt(config), /*non_embedding=*/true);
}

double training_flops_per_token(const GPT2Config& config, int64_t seq) {
  return nanogpt::training_flops_per_token(as_nanogpt(config), mfu_params(config), seq);
}

double generation_flops(const GPT2Config& config, int64_t prompt, int64_t new_tokens) {
  if (prompt < 1 || new_tokens < 1) return 0.0;
  const double P = static_cast<double>(prompt + new_tokens - 1);
  const double head = static_cast<double>(config.vocab_size) * static_cast<double>(config.n_embd);
  const double layers = static_cast<double>(mfu_params(config)) - head;
  const double L = static_cast<double>(config.n_layer), C = static_cast<double>(config.n_embd);
  return 2.0 * layers * P + 4.0 * L * C * P * (P + 1.0) / 2.0 + 2.0 * head * static_cast<double>(new_tokens);
}

double decode_bytes_per_token(const GPT2Config& config, int64_t prompt, int64_t new_tokens, int64_t batch,
                              int64_t element_size) {
  if (prompt < 1 || new_tokens < 2 || batch < 1) return 0.0;
  const double weights = static_cast<double>(mfu_params(config)) / static_cast<double>(batch);
  const double context = static_cast<double>(prompt) + static_cast<double>(new_tokens) / 2.0;
  const double cache = 2.0 * static_cast<double>(config.n_layer) * static_cast<double>(config.n_embd) * context;
  return (weights + cache) * static_cast<double>(element_size);
}

}  // namespace mlspeed::gpt2
