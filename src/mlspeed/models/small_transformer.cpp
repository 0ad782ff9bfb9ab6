#include "mlspeed/models/small_transformer.h"

#include <torch/nn/options/linear.h>
#include <torch/nn/options/normalization.h>
#include <torch/utils.h>

#include <cmath>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed::small_transformer {
namespace {

torch::nn::LayerNorm layer_norm(const SmallTransformerConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embed_dim}).eps(c.layer_norm_eps));
}

// keras.initializers.GlorotUniform for a kernel with these fans; the bias zero.
void glorot_uniform(mlspeed::nn::Linear& linear, int64_t fan_in, int64_t fan_out) {
  const double limit = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  linear->weight.uniform_(-limit, limit);
  linear->bias.zero_();
}

}  // namespace

TokenAndPositionEmbeddingImpl::TokenAndPositionEmbeddingImpl(const SmallTransformerConfig& c)
    : token_emb(register_module("token_emb", torch::nn::Embedding(c.vocab_size, c.embed_dim))),
      pos_emb(register_module("pos_emb", torch::nn::Embedding(c.maxlen, c.embed_dim))) {}

at::Tensor TokenAndPositionEmbeddingImpl::forward(const at::Tensor& ids) {
  const int64_t T = ids.size(1);
  TORCH_CHECK(T <= pos_emb->weight.size(0), "[small transformer] sequence of length ", T, " is longer than maxlen ",
              pos_emb->weight.size(0));
  return token_emb(ids) + pos_emb(at::arange(T, ids.options().dtype(at::kLong)));
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(const SmallTransformerConfig& c)
    : query(register_module("query", mlspeed::nn::Linear(c.embed_dim, c.num_heads * c.key_dim))),
      key(register_module("key", mlspeed::nn::Linear(c.embed_dim, c.num_heads * c.key_dim))),
      value(register_module("value", mlspeed::nn::Linear(c.embed_dim, c.num_heads * c.key_dim))),
      attention_output(register_module("attention_output", mlspeed::nn::Linear(c.num_heads * c.key_dim, c.embed_dim))),
      num_heads_(c.num_heads),
      key_dim_(c.key_dim) {}

at::Tensor MultiHeadAttentionImpl::forward(const at::Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1);
  // (B, T, h*k) -> (B, h, T, k); sdpa's default scale is 1/sqrt(k), Keras's.
  const auto heads = [&](const at::Tensor& t) { return t.view({B, T, num_heads_, key_dim_}).transpose(1, 2); };
  const at::Tensor context =
      compat::sdpa(heads(query(x)), heads(key(x)), heads(value(x)), /*is_causal=*/false, /*dropout_p=*/0.0);
  return attention_output(context.transpose(1, 2).contiguous().view({B, T, num_heads_ * key_dim_}));
}

FeedForwardImpl::FeedForwardImpl(const SmallTransformerConfig& c)
    : dense1(register_module("dense1", mlspeed::nn::Linear(c.embed_dim, c.ff_dim))),
      dense2(register_module("dense2", mlspeed::nn::Linear(c.ff_dim, c.embed_dim))) {}

at::Tensor FeedForwardImpl::forward(const at::Tensor& x) { return dense2(at::relu(dense1(x))); }

TransformerBlockImpl::TransformerBlockImpl(const SmallTransformerConfig& c)
    : att(register_module("att", MultiHeadAttention(c))),
      ffn(register_module("ffn", FeedForward(c))),
      layernorm1(register_module("layernorm1", layer_norm(c))),
      layernorm2(register_module("layernorm2", layer_norm(c))),
      dropout1(register_module("dropout1", torch::nn::Dropout(c.dropout))),
      dropout2(register_module("dropout2", torch::nn::Dropout(c.dropout))) {}

at::Tensor TransformerBlockImpl::forward(const at::Tensor& x) {
  const at::Tensor out1 = layernorm1(x + dropout1(att(x)));
  return layernorm2(out1 + dropout2(ffn(out1)));
}

SmallTransformerImpl::SmallTransformerImpl(const SmallTransformerConfig& c)
    : embedding(register_module("embedding", TokenAndPositionEmbedding(c))),
      transformer_block(register_module("transformer_block", TransformerBlock(c))),
      dense(register_module("dense", mlspeed::nn::Linear(c.embed_dim, c.dense_dim))),
      classifier(register_module("classifier", mlspeed::nn::Linear(c.dense_dim, c.num_classes))),
      dropout(register_module("dropout", torch::nn::Dropout(c.dropout))),
      config_(c) {
  init_weights();
}

void SmallTransformerImpl::init_weights() {
  torch::NoGradGuard no_grad;
  const SmallTransformerConfig& c = config_;
  embedding->token_emb->weight.uniform_(-0.05, 0.05);
  embedding->pos_emb->weight.uniform_(-0.05, 0.05);
  auto& att = transformer_block->att;
  for (auto* projection : {&att->query, &att->key, &att->value})
    glorot_uniform(*projection, c.num_heads * c.embed_dim, c.key_dim * c.embed_dim);
  glorot_uniform(att->attention_output, c.key_dim * c.num_heads, c.embed_dim * c.num_heads);
  glorot_uniform(transformer_block->ffn->dense1, c.embed_dim, c.ff_dim);
  glorot_uniform(transformer_block->ffn->dense2, c.ff_dim, c.embed_dim);
  glorot_uniform(dense, c.embed_dim, c.dense_dim);
  glorot_uniform(classifier, c.dense_dim, c.num_classes);
  // LayerNorm: LibTorch's defaults are Keras's (gamma 1, beta 0).
}

at::Tensor SmallTransformerImpl::forward(const at::Tensor& ids) {
  const at::Tensor pooled = transformer_block(embedding(ids)).mean(/*dim=*/1);  // GlobalAveragePooling1D
  return classifier(dropout(at::relu(dense(dropout(pooled)))));
}

int64_t num_params(const torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

int64_t count_params(const SmallTransformerConfig& c) {
  const int64_t E = c.embed_dim, hk = c.num_heads * c.key_dim, F = c.ff_dim, D = c.dense_dim;
  const int64_t embeddings = (c.vocab_size + c.maxlen) * E;
  const int64_t attention = 3 * (E * hk + hk) + (hk * E + E);
  const int64_t ffn = (E * F + F) + (F * E + E);
  const int64_t layer_norms = 2 * (2 * E);
  const int64_t head = (E * D + D) + (D * c.num_classes + c.num_classes);
  return embeddings + attention + ffn + layer_norms + head;
}

// FLOPs of one training step for one sequence of length T, 2 per multiply-add, matrix products
// only. Forward multiply-adds (E embed, hk = heads x key_dim, F ff, D dense, C classes):
//   per token: query, key, value (3 E hk), attention_output (hk E), the ffn (2 E F), attention
//   scores and their weighted sum (2 T hk)          -> T (4 E hk + 2 E F + 2 T hk)
//   per sequence, the head: E D + D C
// Every parameter trains and the embeddings need a gradient, so backward computes both the
// input and the weight gradient of every product: twice the forward. Total = 3 x 2 x forward
// multiply-adds:
//   6 (T (4 E hk + 2 E F + 2 T hk) + E D + D C)
// Not counted: embedding look-ups and their scatter-add, biases, softmax, LayerNorm, ReLU, the
// pooling, dropout, the loss, the optimizer. For the example at T = 200: 43,012,080 FLOPs.
double training_flops_per_sequence(const SmallTransformerConfig& c, int64_t seq) {
  const double E = static_cast<double>(c.embed_dim), hk = static_cast<double>(c.num_heads * c.key_dim);
  const double F = static_cast<double>(c.ff_dim), D = static_cast<double>(c.dense_dim);
  const double C = static_cast<double>(c.num_classes), T = static_cast<double>(seq);
  return 6.0 * (T * (4.0 * E * hk + 2.0 * E * F + 2.0 * T * hk) + E * D + D * C);
}

}  // namespace mlspeed::small_transformer
