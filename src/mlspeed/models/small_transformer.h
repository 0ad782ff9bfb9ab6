// The Keras example "Text classification with Transformer" (keras.io/examples/nlp/
// text_classification_with_transformer, Apoorv Nandan), the model of mac-ml-speed-test's
// tensorflow_test_nlp.py, in LibTorch:
//
//   token ids (B, T)
//     -> TokenAndPositionEmbedding: Embedding(vocab, E)(ids) + Embedding(maxlen, E)(0..T-1)
//     -> TransformerBlock (post-norm):
//          out1 = LayerNorm(x + Dropout(MultiHeadAttention(x, x)))
//          out2 = LayerNorm(out1 + Dropout(Dense(E)(Dense(F, relu)(out1))))
//     -> GlobalAveragePooling1D (mean over T, padding included: the example masks nothing)
//     -> Dropout -> Dense(20, relu) -> Dropout -> Dense(num_classes)
//   The example ends in a softmax trained with sparse categorical cross-entropy; here the model
//   returns the logits and the loss is cross-entropy on them (the same function, computed stably).
//
// Keras's MultiHeadAttention(num_heads h, key_dim k) projects E -> h*k for the query, key and
// value (einsum kernels (E, h, k) with biases (h, k)), attends per head with scale 1/sqrt(k) and
// projects h*k -> E (kernel (h, k, E), bias (E)); with E = k = 32 and h = 2 it works 64 wide
// inside a 32-wide model. Its attention dropout is Keras's default, 0.
//
// Parameter names, and the Keras weights they hold (Keras kernels are (in, out); LibTorch's
// Linear weights are (out, in), so each kernel is the transpose, reshaped):
//   embedding.token_emb.weight (V, E)           token_and_position_embedding/embedding/embeddings
//   embedding.pos_emb.weight (maxlen, E)        token_and_position_embedding/embedding_1/embeddings
//   transformer_block.att.{query,key,value}.weight (h*k, E)  .../multi_head_attention/{query,key,value}/kernel (E,h,k)
//   transformer_block.att.{query,key,value}.bias (h*k)       .../{query,key,value}/bias (h,k)
//   transformer_block.att.attention_output.weight (E, h*k)   .../attention_output/kernel (h,k,E)
//   transformer_block.att.attention_output.bias (E)          .../attention_output/bias
//   transformer_block.ffn.dense1.{weight,bias}  the ffn Sequential's Dense(F, relu)
//   transformer_block.ffn.dense2.{weight,bias}  the ffn Sequential's Dense(E)
//   transformer_block.layernorm{1,2}.{weight,bias}  layer_normalization{,_1}/{gamma,beta}
//   dense.{weight,bias}       the head's Dense(20, relu)
//   classifier.{weight,bias}  the head's Dense(num_classes, softmax)
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "mlspeed/models/linear.h"

namespace mlspeed::small_transformer {

// Defaults are the Keras example's.
struct SmallTransformerConfig {
  int64_t vocab_size = 20000;
  int64_t maxlen = 200;
  int64_t embed_dim = 32;  // E
  int64_t num_heads = 2;   // h
  int64_t key_dim = 32;    // k: the example passes key_dim=embed_dim
  int64_t ff_dim = 32;     // F
  int64_t dense_dim = 20;  // the head's hidden Dense
  int64_t num_classes = 2;
  double dropout = 0.1;  // the block's two dropouts and the head's two
  double layer_norm_eps = 1e-6;
};

class TokenAndPositionEmbeddingImpl : public torch::nn::Module {
 public:
  explicit TokenAndPositionEmbeddingImpl(const SmallTransformerConfig& config);
  at::Tensor forward(const at::Tensor& ids);

  torch::nn::Embedding token_emb{nullptr};
  torch::nn::Embedding pos_emb{nullptr};
};
TORCH_MODULE(TokenAndPositionEmbedding);

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadAttentionImpl(const SmallTransformerConfig& config);
  at::Tensor forward(const at::Tensor& x);  // self-attention, no mask

  mlspeed::nn::Linear query{nullptr};
  mlspeed::nn::Linear key{nullptr};
  mlspeed::nn::Linear value{nullptr};
  mlspeed::nn::Linear attention_output{nullptr};

 private:
  int64_t num_heads_, key_dim_;
};
TORCH_MODULE(MultiHeadAttention);

class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(const SmallTransformerConfig& config);
  at::Tensor forward(const at::Tensor& x);  // dense2(relu(dense1(x)))

  mlspeed::nn::Linear dense1{nullptr};
  mlspeed::nn::Linear dense2{nullptr};
};
TORCH_MODULE(FeedForward);

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const SmallTransformerConfig& config);
  at::Tensor forward(const at::Tensor& x);

  MultiHeadAttention att{nullptr};
  FeedForward ffn{nullptr};
  torch::nn::LayerNorm layernorm1{nullptr};
  torch::nn::LayerNorm layernorm2{nullptr};
  torch::nn::Dropout dropout1{nullptr};
  torch::nn::Dropout dropout2{nullptr};
};
TORCH_MODULE(TransformerBlock);

class SmallTransformerImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises it as Keras does: embeddings uniform(-0.05, 0.05); Dense
  // and attention kernels glorot_uniform, limit sqrt(6 / (fan_in + fan_out)) with Keras's fans
  // (for the attention's 3-D kernels: query/key/value fan_in h*E, fan_out k*E; output fan_in
  // h*k, fan_out h*E); biases 0; LayerNorm gamma 1, beta 0. Draws from the global generator.
  explicit SmallTransformerImpl(const SmallTransformerConfig& config);
  // ids: int64 (B, T), T <= maxlen. Returns the logits (B, num_classes).
  at::Tensor forward(const at::Tensor& ids);

  const SmallTransformerConfig& config() const { return config_; }

  TokenAndPositionEmbedding embedding{nullptr};
  TransformerBlock transformer_block{nullptr};
  mlspeed::nn::Linear dense{nullptr};
  mlspeed::nn::Linear classifier{nullptr};
  torch::nn::Dropout dropout{nullptr};  // used twice: after the pooling and after dense

 private:
  void init_weights();

  SmallTransformerConfig config_;
};
TORCH_MODULE(SmallTransformer);

// Every parameter of the built model.
int64_t num_params(const torch::nn::Module& model);
// The same count from the configuration: 657,758 for the example's.
int64_t count_params(const SmallTransformerConfig& config);

// FLOPs of one training step per sequence of length `seq` (see small_transformer.cpp).
double training_flops_per_sequence(const SmallTransformerConfig& config, int64_t seq);

}  // namespace mlspeed::small_transformer
