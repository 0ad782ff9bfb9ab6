#include "mlspeed/models/bert.h"

#include <ATen/Dispatch.h>
#include <torch/nn/options/embedding.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/options/normalization.h>
#include <torch/utils.h>

#include <limits>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed::bert {
namespace {

torch::nn::LayerNorm layer_norm(const BertConfig& config) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps));
}

}  // namespace

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& config)
    : word_embeddings(register_module(
          "word_embeddings",
          torch::nn::Embedding(torch::nn::EmbeddingOptions(config.vocab_size, config.hidden_size)
                                   .padding_idx(config.pad_token_id)))),
      position_embeddings(register_module(
          "position_embeddings", torch::nn::Embedding(config.max_position_embeddings, config.hidden_size))),
      token_type_embeddings(register_module(
          "token_type_embeddings", torch::nn::Embedding(config.type_vocab_size, config.hidden_size))),
      LayerNorm(register_module("LayerNorm", layer_norm(config))),
      dropout(register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob))) {}

at::Tensor BertEmbeddingsImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids) {
  const int64_t T = input_ids.size(1);
  TORCH_CHECK(T <= position_embeddings->weight.size(0), "[BERT] sequence of length ", T,
              " is longer than max_position_embeddings ", position_embeddings->weight.size(0));
  const at::Tensor positions = at::arange(T, input_ids.options().dtype(at::kLong));
  // One segment (all type 0) when no token types are given: HF's default. Summed in HF's order.
  const at::Tensor token_types = token_type_ids.defined() ? token_type_embeddings(token_type_ids)
                                                          : token_type_embeddings->weight[0];
  const at::Tensor x = word_embeddings(input_ids) + token_types + position_embeddings(positions);
  return dropout(LayerNorm(x));
}

BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& config)
    : query(register_module("query", mlspeed::nn::Linear(config.hidden_size, config.hidden_size))),
      key(register_module("key", mlspeed::nn::Linear(config.hidden_size, config.hidden_size))),
      value(register_module("value", mlspeed::nn::Linear(config.hidden_size, config.hidden_size))),
      num_heads_(config.num_attention_heads),
      dropout_(config.attention_probs_dropout_prob) {
  TORCH_CHECK(config.hidden_size % config.num_attention_heads == 0, "[BERT] hidden_size ", config.hidden_size,
              " is not a multiple of num_attention_heads ", config.num_attention_heads);
}

at::Tensor BertSelfAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  const int64_t B = hidden.size(0), T = hidden.size(1), C = hidden.size(2);
  // HF's transpose_for_scores: (B, T, C) -> (B, heads, T, head_dim)
  const auto heads = [&](const at::Tensor& t) {
    return t.view({B, T, num_heads_, C / num_heads_}).transpose(1, 2);
  };
  const c10::optional<at::Tensor> mask =
      attention_mask.defined() ? c10::optional<at::Tensor>(attention_mask) : c10::nullopt;
  const at::Tensor context = compat::sdpa(heads(query(hidden)), heads(key(hidden)), heads(value(hidden)),
                                          /*is_causal=*/false, is_training() ? dropout_ : 0.0, mask);
  return context.transpose(1, 2).contiguous().view({B, T, C});
}

BertResidualOutputImpl::BertResidualOutputImpl(const BertConfig& config, int64_t in_features)
    : dense(register_module("dense", mlspeed::nn::Linear(in_features, config.hidden_size))),
      LayerNorm(register_module("LayerNorm", layer_norm(config))),
      dropout(register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob))) {}

at::Tensor BertResidualOutputImpl::forward(const at::Tensor& hidden, const at::Tensor& residual) {
  return LayerNorm(dropout(dense(hidden)) + residual);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& config)
    : self(register_module("self", BertSelfAttention(config))),
      output(register_module("output", BertResidualOutput(config, config.hidden_size))) {}

at::Tensor BertAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  return output(self(hidden, attention_mask), hidden);
}

BertIntermediateImpl::BertIntermediateImpl(const BertConfig& config)
    : dense(register_module("dense", mlspeed::nn::Linear(config.hidden_size, config.intermediate_size))) {}

at::Tensor BertIntermediateImpl::forward(const at::Tensor& hidden) {
  return at::gelu(dense(hidden));  // hidden_act "gelu": the exact, erf form
}

BertLayerImpl::BertLayerImpl(const BertConfig& config)
    : attention(register_module("attention", BertAttention(config))),
      intermediate(register_module("intermediate", BertIntermediate(config))),
      output(register_module("output", BertResidualOutput(config, config.intermediate_size))) {}

at::Tensor BertLayerImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  const at::Tensor attended = attention(hidden, attention_mask);
  return output(intermediate(attended), attended);
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& config)
    : layer(register_module("layer", torch::nn::ModuleList())) {
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    layers_.emplace_back(config);
    layer->push_back(layers_.back());
  }
}

at::Tensor BertEncoderImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  at::Tensor x = hidden;
  for (auto& l : layers_) x = l(x, attention_mask);
  return x;
}

BertPoolerImpl::BertPoolerImpl(const BertConfig& config)
    : dense(register_module("dense", mlspeed::nn::Linear(config.hidden_size, config.hidden_size))) {}

at::Tensor BertPoolerImpl::forward(const at::Tensor& sequence_output) {
  return at::tanh(dense(sequence_output.select(/*dim=*/1, /*index=*/0)));  // the [CLS] token
}

BertModelImpl::BertModelImpl(const BertConfig& config)
    : embeddings(register_module("embeddings", BertEmbeddings(config))),
      encoder(register_module("encoder", BertEncoder(config))),
      pooler(register_module("pooler", BertPooler(config))),
      config_(config) {
  init_weights();
}

void BertModelImpl::init_weights() {
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* lin = module->as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, 0.02);
      lin->bias.zero_();
    } else if (auto* emb = module->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, 0.02);
      if (emb->options.padding_idx()) emb->weight[*emb->options.padding_idx()].zero_();
    } else if (auto* ln = module->as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

BertModelOutput BertModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                                       const at::Tensor& attention_mask) {
  const at::Tensor sequence_output = encoder(embeddings(input_ids, token_type_ids), attention_mask);
  return {sequence_output, pooler(sequence_output)};
}

int64_t num_params(const BertModelImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

int64_t count_params(const BertConfig& config) {
  const int64_t h = config.hidden_size, I = config.intermediate_size;
  const int64_t layer_norm = 2 * h;
  const int64_t embeddings =
      (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h + layer_norm;
  const int64_t attention = 4 * (h * h + h) + layer_norm;  // query, key, value, output.dense
  const int64_t feed_forward = (h * I + I) + (I * h + h) + layer_norm;
  const int64_t pooler = h * h + h;
  return embeddings + config.num_hidden_layers * (attention + feed_forward) + pooler;
}

// FLOPs of one sequence of length T through the encoder and pooler, 2 per multiply-add:
//   per token and layer, the linear layers: query, key, value, attention output (4 * h * h)
//   and the feed-forward pair (2 * h * I) multiply-adds  -> 2 * (4h^2 + 2hI) FLOPs;
//   per token and layer, attention: Q K^T and probabilities x V, T * h multiply-adds each
//                                                       -> 4 * T * h FLOPs;
//   once per sequence, the pooler's dense layer on the first token -> 2 * h^2 FLOPs.
//   total = T * L * (2 * (4h^2 + 2hI) + 4Th) + 2h^2
// Not counted (small next to the matrix products, and not what MFU is about): embedding
// look-ups, bias additions, softmax, attention scaling, LayerNorm, GELU, tanh, residual adds.
double inference_flops_per_sequence(const BertConfig& config, int64_t seq) {
  const double h = static_cast<double>(config.hidden_size), I = static_cast<double>(config.intermediate_size);
  const double L = static_cast<double>(config.num_hidden_layers), T = static_cast<double>(seq);
  const double linear = 2.0 * (4.0 * h * h + 2.0 * h * I);
  const double attention = 4.0 * T * h;
  return T * L * (linear + attention) + 2.0 * h * h;
}

at::Tensor extended_attention_mask(const at::Tensor& padding_mask, at::ScalarType dtype) {
  const double lowest = AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, dtype, "extended_attention_mask",
      [] { return static_cast<double>(std::numeric_limits<scalar_t>::lowest()); });
  const at::Tensor keep = padding_mask.to(dtype).unsqueeze(1).unsqueeze(2);  // (B, 1, 1, T)
  return (1.0 - keep) * lowest;
}

}  // namespace mlspeed::bert
