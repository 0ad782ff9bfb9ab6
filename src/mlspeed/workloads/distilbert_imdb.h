// distilbert-imdb (mac-ml-speed-test, pytorch_test_nlp.py): distilbert-base-uncased fine-tuned for IMDB
// sentiment with Hugging Face's Trainer, timed as whole training steps. As in the seed, only
// the last transformer block, pre_classifier and classifier train; everything else is frozen.
//
// The session type is public so that verification and tests can read the loss and the model;
// the runner only sees it as a Session.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/data/imdb.h"
#include "mlspeed/models/distilbert.h"
#include "mlspeed/workloads/training_session.h"

namespace mlspeed {

std::unique_ptr<Workload> make_distilbert_imdb();

namespace distilbert {

// The model configuration of a size of the workload ("tiny", "full"); throws std::invalid_argument
// for any other name.
DistilBertConfig imdb_config(const std::string& size);

// The IMDB training reviews as WordPiece ids: each review tokenised once, truncated to
// max_position_embeddings - 2 ids (room for [CLS] and [SEP]) plus one, which tells a review that
// was cut from one that fits.
struct WordPieceReviews {
  imdb::TokenizedReviews reviews;
  int32_t cls_id = 0, sep_id = 0, pad_id = 0;
  std::string description;  // "IMDB <folder>: 25000 reviews (...), WordPiece (<vocab.txt>, 30522 tokens)"
};

// Reads the training set under `path` (see imdb::read_train_set) and the vocabulary beside it:
// vocab.txt in the aclImdb folder, else in its train folder (bert-base-uncased's, which
// distilbert-base-uncased shares). Ids past the model's vocabulary (the tiny size) read as
// [UNK]. Throws InputFileError for a bad data set or vocabulary, or none.
WordPieceReviews read_wordpiece_reviews(const std::string& path, const DistilBertConfig& config, uint64_t seed);

// The Trainer's step as pytorch_test_nlp.py configures it: AdamW (torch's) lr 2e-5, betas (0.9,
// 0.999), eps 1e-8, weight decay 0.01 except on biases and LayerNorm weights, over the trainable
// parameters only; gradients clipped to norm 1.0 (max_grad_norm); fp16 = autocast + GradScaler,
// bf16 = autocast. The linear learning-rate decay is left out: a constant rate costs the same.
class FineTuneSession : public TrainingSessionBase {
 public:
  static constexpr train::AdamWOptions kAdamW{2e-5, 0.9, 0.999, 1e-8};  // lr, betas, eps
  static constexpr double kWeightDecay = 0.01;
  static constexpr double kGradClip = 1.0;

  // Builds the model on the CPU from the seed (the same weights for every device), freezes all
  // but the tail, then moves it.
  FineTuneSession(const DistilBertConfig& config, const c10::Device& device, Precision precision, uint64_t seed);

  // Steps on these reviews instead of synthetic data.
  void use_data(WordPieceReviews data);

  std::string data_description() const override;
  DistilBertForSequenceClassification& classifier() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  const std::vector<at::Tensor>& trainable_parameters() const { return trainable_; }
  // The inputs of the last step (or of prepare() for synthetic data).
  const at::Tensor& input_ids() const { return input_ids_; }
  const at::Tensor& padding_mask() const { return padding_mask_; }  // undefined: no padding
  const at::Tensor& labels() const { return labels_; }

 private:
  // Synthetic: token ids (shape.batch, shape.seq) uniform in [0, vocab) and labels uniform in
  // [0, num_labels), drawn on the CPU from the seed, no padding; moved to the device here.
  // Real data: back to the first batch of the shuffled reviews (each step loads its batch, built
  // on the host and copied to the device).
  void prepare_inputs(const Shape& shape) override;
  std::vector<at::Tensor*> batch_tensors() override { return {&input_ids_, &padding_mask_, &labels_}; }
  bool reads_data() const override { return data_.has_value(); }
  void load_next_batch() override;
  at::Tensor logits() override { return model_->forward(input_ids_, padding_mask_); }
  at::Tensor loss() override { return at::cross_entropy_loss(logits(), labels_); }

  DistilBertForSequenceClassification model_{nullptr};
  std::vector<at::Tensor> trainable_;
  std::optional<WordPieceReviews> data_;
  Shape shape_;
  at::Tensor input_ids_, padding_mask_, labels_;
};

}  // namespace distilbert
}  // namespace mlspeed
