// BERT (Devlin et al. 2018) as Hugging Face's BertModel, the encoder of bert-base-uncased:
//
//   input_ids, token_type_ids (B,T)
//     -> embeddings: word + position + token_type -> LayerNorm -> dropout
//     -> num_layers x BertLayer (post-norm):
//          a = LayerNorm(x + dropout(dense(self_attention(x))))      "attention"
//          x = LayerNorm(a + dropout(dense(gelu(dense(a)))))          "intermediate", "output"
//     -> sequence output (B,T,hidden);  pooler: tanh(dense(sequence_output[:, 0])) -> (B,hidden)
//
// Parameter names are exactly Hugging Face's, so a bert-base-uncased state dict loads by name:
//   embeddings.{word,position,token_type}_embeddings.weight, embeddings.LayerNorm.{weight,bias},
//   encoder.layer.N.attention.self.{query,key,value}.{weight,bias},
//   encoder.layer.N.attention.output.dense.{weight,bias},
//   encoder.layer.N.attention.output.LayerNorm.{weight,bias},
//   encoder.layer.N.intermediate.dense.{weight,bias},
//   encoder.layer.N.output.dense.{weight,bias}, encoder.layer.N.output.LayerNorm.{weight,bias},
//   pooler.dense.{weight,bias}
// HF's non-persistent buffers (position_ids, token_type_ids) are made on the fly instead.
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

namespace mlspeed::bert {

// Defaults are bert-base-uncased's config.json.
struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t pad_token_id = 0;
};

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids);

  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};
  torch::nn::Embedding token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // HF's name, kept for the checkpoint
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& config);
  // attention_mask: undefined, or additive (0 to attend, a large negative number to ignore),
  // broadcastable to (B, heads, T, T), as HF's extended attention mask.
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  mlspeed::nn::Linear query{nullptr};
  mlspeed::nn::Linear key{nullptr};
  mlspeed::nn::Linear value{nullptr};

 private:
  int64_t num_heads_;
  double dropout_;  // on the attention probabilities, inside sdpa, in training only
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> LayerNorm(+ residual): both BertSelfOutput and BertOutput in HF.
class BertResidualOutputImpl : public torch::nn::Module {
 public:
  BertResidualOutputImpl(const BertConfig& config, int64_t in_features);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& residual);

  mlspeed::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertResidualOutput);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  BertSelfAttention self{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& hidden);

  mlspeed::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertIntermediate);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertResidualOutput output{nullptr};
};
TORCH_MODULE(BertLayer);

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask);

  torch::nn::ModuleList layer{nullptr};

 private:
  std::vector<BertLayer> layers_;  // the modules of `layer`, typed
};
TORCH_MODULE(BertEncoder);

class BertPoolerImpl : public torch::nn::Module {
 public:
  explicit BertPoolerImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& sequence_output);  // tanh(dense(first token))

  mlspeed::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

struct BertModelOutput {
  at::Tensor sequence_output;  // (B, T, hidden): HF's last_hidden_state
  at::Tensor pooled_output;    // (B, hidden): HF's pooler_output
};

class BertModelImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises it as HF's BertPreTrainedModel._init_weights: normal(0,
  // 0.02) weights (the padding row of the word embeddings zero), zero biases, LayerNorm 1 / 0.
  // Draws from the global generator.
  explicit BertModelImpl(const BertConfig& config);
  // input_ids: int64 (B, T), T <= max_position_embeddings. token_type_ids: undefined for all
  // zeros (one segment), else int64 (B, T). attention_mask: see BertSelfAttention.
  BertModelOutput forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids = {},
                          const at::Tensor& attention_mask = {});

  const BertConfig& config() const { return config_; }

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};

 private:
  void init_weights();

  BertConfig config_;
};
TORCH_MODULE(BertModel);

// Every parameter, pooler included, as the published 109,482,240 for bert-base-uncased.
int64_t num_params(const BertModelImpl& model);

// The same count from the configuration alone, without building the model.
int64_t count_params(const BertConfig& config);

// Inference FLOPs for one sequence of length `seq` (see bert.cpp for what is counted).
double inference_flops_per_sequence(const BertConfig& config, int64_t seq);

// An additive mask from a padding mask (B, T) of 1 = token, 0 = padding: (B, 1, 1, T) in
// `dtype`, 0 where attended and the dtype's lowest value where not (HF's convention).
at::Tensor extended_attention_mask(const at::Tensor& padding_mask, at::ScalarType dtype);

}  // namespace mlspeed::bert
