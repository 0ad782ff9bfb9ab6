// DistilBERT (Sanh et al. 2019) with a sequence-classification head, as Hugging Face's
// DistilBertForSequenceClassification, the model of mac-ml-speed-test's pytorch_test_nlp.py:
//
//   input_ids (B,T), padding mask (B,T)
//     -> embeddings: word + position -> LayerNorm -> dropout
//     -> n_layers x TransformerBlock (post-norm):
//          a = sa_layer_norm(x + out_lin(self_attention(q_lin x, k_lin x, v_lin x)))
//          x = output_layer_norm(a + dropout(lin2(gelu(lin1(a)))))
//     -> first token's hidden state -> pre_classifier -> ReLU -> dropout(0.2) -> classifier
//     -> logits (B, num_labels)
// BERT's layer (models/bert.h) differs in its names and in having token types and a dropout
// after the attention's output projection; DistilBERT has neither.
//
// Parameter names are exactly Hugging Face's, so a checkpoint loads by name:
//   distilbert.embeddings.{word,position}_embeddings.weight, distilbert.embeddings.LayerNorm.*,
//   distilbert.transformer.layer.N.attention.{q_lin,k_lin,v_lin,out_lin}.{weight,bias},
//   distilbert.transformer.layer.N.sa_layer_norm.*, .ffn.lin1.*, .ffn.lin2.*,
//   distilbert.transformer.layer.N.output_layer_norm.*, pre_classifier.*, classifier.*
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "mlspeed/models/linear.h"

namespace mlspeed::distilbert {

// Defaults are distilbert-base-uncased's config.json, with HF's two labels.
struct DistilBertConfig {
  int64_t vocab_size = 30522;
  int64_t dim = 768;
  int64_t n_layers = 6;
  int64_t n_heads = 12;
  int64_t hidden_dim = 3072;
  int64_t max_position_embeddings = 512;
  double layer_norm_eps = 1e-12;
  double dropout = 0.1;
  double attention_dropout = 0.1;
  double seq_classif_dropout = 0.2;
  int64_t num_labels = 2;
  int64_t pad_token_id = 0;
  double initializer_range = 0.02;
};

class EmbeddingsImpl : public torch::nn::Module {
 public:
  explicit EmbeddingsImpl(const DistilBertConfig& config);
  at::Tensor forward(const at::Tensor& input_ids);

  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // HF's name, kept for the checkpoint
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(Embeddings);

class MultiHeadSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadSelfAttentionImpl(const DistilBertConfig& config);
  // attention_mask: undefined, or additive (B, 1, 1, T) (see bert::extended_attention_mask); it
  // is cast to the queries' dtype, which autocast may have lowered.
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  mlspeed::nn::Linear q_lin{nullptr};
  mlspeed::nn::Linear k_lin{nullptr};
  mlspeed::nn::Linear v_lin{nullptr};
  mlspeed::nn::Linear out_lin{nullptr};

 private:
  int64_t n_heads_;
  double dropout_;  // on the attention probabilities, inside sdpa, in training only
};
TORCH_MODULE(MultiHeadSelfAttention);

class FFNImpl : public torch::nn::Module {
 public:
  explicit FFNImpl(const DistilBertConfig& config);
  at::Tensor forward(const at::Tensor& hidden);  // dropout(lin2(gelu(lin1(x))))

  mlspeed::nn::Linear lin1{nullptr};
  mlspeed::nn::Linear lin2{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(FFN);

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const DistilBertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  MultiHeadSelfAttention attention{nullptr};
  torch::nn::LayerNorm sa_layer_norm{nullptr};
  FFN ffn{nullptr};
  torch::nn::LayerNorm output_layer_norm{nullptr};
};
TORCH_MODULE(TransformerBlock);

class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const DistilBertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  torch::nn::ModuleList layer{nullptr};
  std::vector<TransformerBlock> blocks;  // the modules of `layer`, typed
};
TORCH_MODULE(Transformer);

class DistilBertModelImpl : public torch::nn::Module {
 public:
  explicit DistilBertModelImpl(const DistilBertConfig& config);
  // The last hidden state (B, T, dim).
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask);

  Embeddings embeddings{nullptr};
  Transformer transformer{nullptr};
};
TORCH_MODULE(DistilBertModel);

class DistilBertForSequenceClassificationImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises it as HF's DistilBertPreTrainedModel._init_weights:
  // normal(0, 0.02) weights (the padding row of the word embeddings zero), zero biases,
  // LayerNorm 1 / 0. Draws from the global generator.
  explicit DistilBertForSequenceClassificationImpl(const DistilBertConfig& config);
  // input_ids: int64 (B, T), T <= max_position_embeddings. padding_mask: undefined when no
  // token is padding, else (B, T) with 1 for a token and 0 for padding (HF's attention_mask).
  // Returns the logits (B, num_labels).
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& padding_mask = {});

  const DistilBertConfig& config() const { return config_; }

  DistilBertModel distilbert{nullptr};
  mlspeed::nn::Linear pre_classifier{nullptr};
  mlspeed::nn::Linear classifier{nullptr};
  torch::nn::Dropout dropout{nullptr};

 private:
  DistilBertConfig config_;
};
TORCH_MODULE(DistilBertForSequenceClassification);

// Every parameter of the built model.
int64_t num_params(const torch::nn::Module& model);

// The same count from the configuration alone: 66,955,010 for distilbert-base-uncased with two
// labels.
int64_t count_params(const DistilBertConfig& config);

// mac-ml-speed-test's fine-tuning (pytorch_test_nlp.py): every parameter frozen (requires_grad
// false) except those of the last transformer block, pre_classifier and classifier. Returns the trainable ones.
std::vector<at::Tensor> freeze_all_but_last_block(DistilBertForSequenceClassificationImpl& model);
// How many parameters that leaves trainable: 7,680,002 for distilbert-base-uncased.
int64_t count_trainable_params(const DistilBertConfig& config);

// FLOPs of one fine-tuning step per sequence of length `seq` (see distilbert.cpp for what is
// counted).
double finetune_flops_per_sequence(const DistilBertConfig& config, int64_t seq);

}  // namespace mlspeed::distilbert
