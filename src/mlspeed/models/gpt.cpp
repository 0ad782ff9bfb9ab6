#include "mlspeed/models/gpt.h"

#include <torch/nn/options/linear.h>
#include <torch/utils.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/fused/residual_layer_norm.h"
#include "mlspeed/models/pre_norm_stack.h"

namespace mlspeed::nanogpt {
namespace {

mlspeed::nn::Linear linear(int64_t in, int64_t out, bool bias) {
  return mlspeed::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

LayerNormImpl::LayerNormImpl(int64_t ndim, bool bias) {
  weight = register_parameter("weight", at::ones({ndim}));
  if (bias) this->bias = register_parameter("bias", at::zeros({ndim}));
}

at::Tensor LayerNormImpl::forward(const at::Tensor& x) {
  return at::layer_norm(x, {weight.size(0)}, weight, bias, 1e-5);
}

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GPTConfig& config)
    : c_attn(register_module("c_attn", linear(config.n_embd, 3 * config.n_embd, config.bias))),
      c_proj(register_module("c_proj", linear(config.n_embd, config.n_embd, config.bias))),
      resid_dropout(register_module("resid_dropout", torch::nn::Dropout(config.dropout))),
      n_head_(config.n_head),
      n_embd_(config.n_embd),
      dropout_(config.dropout) {
  TORCH_CHECK(config.n_embd % config.n_head == 0, "[GPT] n_embd ", config.n_embd,
              " is not a multiple of n_head ", config.n_head);
}

at::Tensor CausalSelfAttentionImpl::forward(const at::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  // (B, T, C) -> (B, n_head, T, head_dim)
  const auto heads = [&](const at::Tensor& t) {
    return t.view({B, T, n_head_, C / n_head_}).transpose(1, 2);
  };
  const std::vector<at::Tensor> qkv = c_attn(x).split(n_embd_, /*dim=*/2);
  at::Tensor y = compat::sdpa(heads(qkv[0]), heads(qkv[1]), heads(qkv[2]), /*is_causal=*/true,
                              is_training() ? dropout_ : 0.0);
  y = y.transpose(1, 2).contiguous().view({B, T, C});  // re-assemble the heads side by side
  return resid_dropout(c_proj(y));
}

MLPImpl::MLPImpl(const GPTConfig& config)
    : c_fc(register_module("c_fc", linear(config.n_embd, 4 * config.n_embd, config.bias))),
      c_proj(register_module("c_proj", linear(4 * config.n_embd, config.n_embd, config.bias))),
      dropout(register_module("dropout", torch::nn::Dropout(config.dropout))) {}

at::Tensor MLPImpl::forward(const at::Tensor& x) {
  return dropout(c_proj(at::gelu(c_fc(x))));  // nn.GELU(): the exact, erf form
}

BlockImpl::BlockImpl(const GPTConfig& config)
    : ln_1(register_module("ln_1", LayerNorm(config.n_embd, config.bias))),
      attn(register_module("attn", CausalSelfAttention(config))),
      ln_2(register_module("ln_2", LayerNorm(config.n_embd, config.bias))),
      mlp(register_module("mlp", MLP(config))) {}

at::Tensor BlockImpl::forward(const at::Tensor& x) {
  const at::Tensor y = x + attn(ln_1(x));
  return y + mlp(ln_2(y));
}

GPTImpl::GPTImpl(const GPTConfig& config) : config_(config) {
  TORCH_CHECK(config.vocab_size > 0 && config.block_size > 0 && config.n_layer > 0,
              "[GPT] vocab_size, block_size and n_layer must be positive");
  wte = torch::nn::Embedding(config.vocab_size, config.n_embd);
  wpe = torch::nn::Embedding(config.block_size, config.n_embd);
  drop = torch::nn::Dropout(config.dropout);
  h = torch::nn::ModuleList();
  for (int64_t i = 0; i < config.n_layer; ++i) {
    blocks_.emplace_back(config);
    h->push_back(blocks_.back());
  }
  ln_f = LayerNorm(config.n_embd, config.bias);
  // nanoGPT's nn.ModuleDict(dict(wte=..., wpe=..., drop=..., h=..., ln_f=...)).
  using Named = std::pair<std::string, std::shared_ptr<torch::nn::Module>>;
  const std::vector<Named> parts = {
      {"wte", wte.ptr()}, {"wpe", wpe.ptr()}, {"drop", drop.ptr()}, {"h", h.ptr()}, {"ln_f", ln_f.ptr()}};
  transformer = register_module("transformer", torch::nn::ModuleDict(parts));
  init_weights();
}

void GPTImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* lin = module->as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, 0.02);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* emb = module->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, 0.02);
    }
  }
  // GPT-2's scaled init of the projections that write into the residual stream.
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config_.n_layer));
  for (auto& item : named_parameters())
    if (ends_with(item.key(), "c_proj.weight")) item.value().normal_(0.0, residual_std);
}

at::Tensor GPTImpl::forward(const at::Tensor& idx) {
  const int64_t T = idx.size(1);
  TORCH_CHECK(T <= config_.block_size, "[GPT] cannot forward a sequence of length ", T,
              ", block size is only ", config_.block_size);
  const at::Tensor pos = at::arange(T, idx.options().dtype(at::kLong));
  at::Tensor x = drop(wte(idx) + wpe(pos));  // token + position embeddings, (B, T, n_embd)
  if (std::optional<at::Tensor> fused = fused_blocks(x)) {
    x = *fused;
  } else {
    for (auto& block : blocks_) x = block(x);
    x = ln_f(x);
  }
  return at::linear(x, wte->weight);  // lm_head, tied to wte
}

std::optional<at::Tensor> GPTImpl::fused_blocks(const at::Tensor& x) {
  const auto norm = [](const LayerNormImpl& n) { return fused::NormParameters{n.weight, n.bias, 1e-5}; };
  return fused::pre_norm_blocks(x, pre_norm_stack(blocks_, ln_f, norm));
}

int64_t num_params(const GPTImpl& model, bool non_embedding) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  if (non_embedding) n -= model.wpe->weight.numel();
  return n;
}

int64_t count_params(const GPTConfig& config, bool non_embedding) {
  const int64_t n = config.n_embd, bias = config.bias ? 1 : 0;
  // Per block: c_attn 3n^2, attn.c_proj n^2, c_fc 4n^2, mlp.c_proj 4n^2; two LayerNorm gains;
  // biases of those four Linears (3n + n + 4n + n) and of the two LayerNorms.
  const int64_t per_block = 12 * n * n + 2 * n + bias * (9 * n + 2 * n);
  const int64_t ln_f = n + bias * n;
  const int64_t wpe = non_embedding ? 0 : config.block_size * n;
  return config.n_layer * per_block + ln_f + config.vocab_size * n + wpe;
}

double training_flops_per_token(const GPTConfig& config, int64_t non_embedding_params, int64_t seq) {
  const double L = static_cast<double>(config.n_layer), H = static_cast<double>(config.n_head);
  const double Q = static_cast<double>(config.n_embd / config.n_head), T = static_cast<double>(seq);
  return 6.0 * static_cast<double>(non_embedding_params) + 12.0 * L * H * Q * T;
}

}  // namespace mlspeed::nanogpt
