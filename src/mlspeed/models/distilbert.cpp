#include "mlspeed/models/distilbert.h"

#include <torch/nn/options/embedding.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/options/normalization.h>
#include <torch/utils.h>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/models/bert.h"

namespace mlspeed::distilbert {
namespace {

torch::nn::LayerNorm layer_norm(const DistilBertConfig& config) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({config.dim}).eps(config.layer_norm_eps));
}

// HF's DistilBertPreTrainedModel._init_weights.
void init_weights(torch::nn::Module& model, double std) {
  torch::NoGradGuard no_grad;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (auto* lin = module->as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, std);
      lin->bias.zero_();
    } else if (auto* emb = module->as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, std);
      if (emb->options.padding_idx()) emb->weight[*emb->options.padding_idx()].zero_();
    } else if (auto* ln = module->as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  }
}

}  // namespace

EmbeddingsImpl::EmbeddingsImpl(const DistilBertConfig& config)
    : word_embeddings(register_module(
          "word_embeddings",
          torch::nn::Embedding(
              torch::nn::EmbeddingOptions(config.vocab_size, config.dim).padding_idx(config.pad_token_id)))),
      position_embeddings(
          register_module("position_embeddings", torch::nn::Embedding(config.max_position_embeddings, config.dim))),
      LayerNorm(register_module("LayerNorm", layer_norm(config))),
      dropout(register_module("dropout", torch::nn::Dropout(config.dropout))) {}

at::Tensor EmbeddingsImpl::forward(const at::Tensor& input_ids) {
  const int64_t T = input_ids.size(1);
  TORCH_CHECK(T <= position_embeddings->weight.size(0), "[DistilBERT] sequence of length ", T,
              " is longer than max_position_embeddings ", position_embeddings->weight.size(0));
  const at::Tensor positions = at::arange(T, input_ids.options().dtype(at::kLong));
  return dropout(LayerNorm(word_embeddings(input_ids) + position_embeddings(positions)));
}

MultiHeadSelfAttentionImpl::MultiHeadSelfAttentionImpl(const DistilBertConfig& config)
    : q_lin(register_module("q_lin", mlspeed::nn::Linear(config.dim, config.dim))),
      k_lin(register_module("k_lin", mlspeed::nn::Linear(config.dim, config.dim))),
      v_lin(register_module("v_lin", mlspeed::nn::Linear(config.dim, config.dim))),
      out_lin(register_module("out_lin", mlspeed::nn::Linear(config.dim, config.dim))),
      n_heads_(config.n_heads),
      dropout_(config.attention_dropout) {
  TORCH_CHECK(config.dim % config.n_heads == 0, "[DistilBERT] dim ", config.dim, " is not a multiple of n_heads ",
              config.n_heads);
}

at::Tensor MultiHeadSelfAttentionImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  const int64_t B = hidden.size(0), T = hidden.size(1), C = hidden.size(2);
  const auto heads = [&](const at::Tensor& t) { return t.view({B, T, n_heads_, C / n_heads_}).transpose(1, 2); };
  const at::Tensor q = heads(q_lin(hidden));
  c10::optional<at::Tensor> mask;
  if (attention_mask.defined()) mask = attention_mask.to(q.scalar_type());
  // scores = q k^T / sqrt(head_dim), as HF scales q before the product.
  const at::Tensor context = compat::sdpa(q, heads(k_lin(hidden)), heads(v_lin(hidden)), /*is_causal=*/false,
                                          is_training() ? dropout_ : 0.0, mask);
  return out_lin(context.transpose(1, 2).contiguous().view({B, T, C}));
}

FFNImpl::FFNImpl(const DistilBertConfig& config)
    : lin1(register_module("lin1", mlspeed::nn::Linear(config.dim, config.hidden_dim))),
      lin2(register_module("lin2", mlspeed::nn::Linear(config.hidden_dim, config.dim))),
      dropout(register_module("dropout", torch::nn::Dropout(config.dropout))) {}

at::Tensor FFNImpl::forward(const at::Tensor& hidden) {
  return dropout(lin2(at::gelu(lin1(hidden))));  // activation "gelu": the exact, erf form
}

TransformerBlockImpl::TransformerBlockImpl(const DistilBertConfig& config)
    : attention(register_module("attention", MultiHeadSelfAttention(config))),
      sa_layer_norm(register_module("sa_layer_norm", layer_norm(config))),
      ffn(register_module("ffn", FFN(config))),
      output_layer_norm(register_module("output_layer_norm", layer_norm(config))) {}

at::Tensor TransformerBlockImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  const at::Tensor attended = sa_layer_norm(attention(hidden, attention_mask) + hidden);
  return output_layer_norm(ffn(attended) + attended);
}

TransformerImpl::TransformerImpl(const DistilBertConfig& config)
    : layer(register_module("layer", torch::nn::ModuleList())) {
  for (int64_t i = 0; i < config.n_layers; ++i) {
    blocks.emplace_back(config);
    layer->push_back(blocks.back());
  }
}

at::Tensor TransformerImpl::forward(const at::Tensor& hidden, const at::Tensor& attention_mask) {
  at::Tensor x = hidden;
  for (auto& block : blocks) x = block(x, attention_mask);
  return x;
}

DistilBertModelImpl::DistilBertModelImpl(const DistilBertConfig& config)
    : embeddings(register_module("embeddings", Embeddings(config))),
      transformer(register_module("transformer", Transformer(config))) {}

at::Tensor DistilBertModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
  return transformer(embeddings(input_ids), attention_mask);
}

DistilBertForSequenceClassificationImpl::DistilBertForSequenceClassificationImpl(const DistilBertConfig& config)
    : distilbert(register_module("distilbert", DistilBertModel(config))),
      pre_classifier(register_module("pre_classifier", mlspeed::nn::Linear(config.dim, config.dim))),
      classifier(register_module("classifier", mlspeed::nn::Linear(config.dim, config.num_labels))),
      dropout(register_module("dropout", torch::nn::Dropout(config.seq_classif_dropout))),
      config_(config) {
  init_weights(*this, config.initializer_range);
}

at::Tensor DistilBertForSequenceClassificationImpl::forward(const at::Tensor& input_ids,
                                                            const at::Tensor& padding_mask) {
  // The additive mask is made once in float32; each attention casts it to its own dtype.
  const at::Tensor mask =
      padding_mask.defined() ? bert::extended_attention_mask(padding_mask, at::kFloat) : at::Tensor();
  const at::Tensor hidden = distilbert(input_ids, mask);
  const at::Tensor pooled = at::relu(pre_classifier(hidden.select(/*dim=*/1, /*index=*/0)));  // [CLS]
  return classifier(dropout(pooled));
}

int64_t num_params(const torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

namespace {

int64_t block_params(const DistilBertConfig& c) {
  const int64_t d = c.dim, h = c.hidden_dim;
  const int64_t attention = 4 * (d * d + d);  // q_lin, k_lin, v_lin, out_lin
  const int64_t ffn = (d * h + h) + (h * d + d);
  return attention + ffn + 2 * (2 * d);  // sa_layer_norm, output_layer_norm
}

int64_t head_params(const DistilBertConfig& c) {
  return (c.dim * c.dim + c.dim) + (c.dim * c.num_labels + c.num_labels);  // pre_classifier, classifier
}

}  // namespace

int64_t count_params(const DistilBertConfig& c) {
  const int64_t embeddings = (c.vocab_size + c.max_position_embeddings) * c.dim + 2 * c.dim;
  return embeddings + c.n_layers * block_params(c) + head_params(c);
}

int64_t count_trainable_params(const DistilBertConfig& c) { return block_params(c) + head_params(c); }

std::vector<at::Tensor> freeze_all_but_last_block(DistilBertForSequenceClassificationImpl& model) {
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  std::vector<at::Tensor> trainable;
  const auto unfreeze = [&](torch::nn::Module& module) {
    for (auto& p : module.parameters()) {
      p.set_requires_grad(true);
      trainable.push_back(p);
    }
  };
  unfreeze(*model.distilbert->transformer->blocks.back());
  unfreeze(*model.pre_classifier);
  unfreeze(*model.classifier);
  return trainable;
}

// FLOPs of one fine-tuning step for one sequence of length T, 2 per multiply-add, matrix
// products only (d = dim, H = hidden_dim, L = n_layers, K = num_labels):
//   forward, every layer and token: q_lin, k_lin, v_lin, out_lin (4 d^2) and lin1, lin2 (2 d H)
//     multiply-adds, plus attention: Q K^T and probabilities x V, T d each
//                                                  -> T L (2 (4 d^2 + 2 d H) + 4 T d)
//     the head, on the first token only: pre_classifier d^2, classifier d K   -> 2 d^2 + 2 d K
//   backward, through the trainable tail only (nothing before the last block needs a gradient):
//     the head: weight and input gradients                                    -> 4 d^2 + 4 d K
//     the last block, per token: out_lin, lin1, lin2 weight and input gradients (2 x 2 (d^2 +
//     2 d H)); q_lin, k_lin, v_lin weight gradients only, as their input (the frozen block's
//     output) needs none (3 x 2 d^2); attention: dQ, dK, dP, dV (4 x 2 T d)
//                                                  -> T (10 d^2 + 8 d H + 8 T d)
//   (the gradient reaching the block is non-zero at the first token only, but autograd's
//   products are over every token, so all T are counted).
// Not counted: embedding look-ups, biases, softmax, LayerNorm, GELU, ReLU, dropout, the loss,
// the optimizer. For distilbert-base-uncased at T = 512: 62,616,118,272 FLOPs per sequence.
double finetune_flops_per_sequence(const DistilBertConfig& c, int64_t seq) {
  const double d = static_cast<double>(c.dim), H = static_cast<double>(c.hidden_dim);
  const double L = static_cast<double>(c.n_layers), T = static_cast<double>(seq);
  const double K = static_cast<double>(c.num_labels);
  const double forward = T * L * (2.0 * (4.0 * d * d + 2.0 * d * H) + 4.0 * T * d) + 2.0 * d * d + 2.0 * d * K;
  const double backward = T * (10.0 * d * d + 8.0 * d * H + 8.0 * T * d) + 4.0 * d * d + 4.0 * d * K;
  return forward + backward;
}

}  // namespace mlspeed::distilbert
