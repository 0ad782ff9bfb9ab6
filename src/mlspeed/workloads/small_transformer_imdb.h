// small-transformer-imdb (mac-ml-speed-test, tensorflow_test_nlp.py): the Keras example "Text
// classification with Transformer" trained on IMDB sentiment with Adam, timed as whole training
// steps (model.fit's train_step: forward, sparse categorical cross-entropy, backward, update).
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
#include "mlspeed/models/small_transformer.h"
#include "mlspeed/workloads/training_session.h"

namespace mlspeed {

std::unique_ptr<Workload> make_small_transformer_imdb();

namespace small_transformer {

// The model configuration of a size of the workload ("tiny", "full"); throws std::invalid_argument
// for any other name.
SmallTransformerConfig imdb_config(const std::string& size);

// The IMDB training reviews as word ids (text/word_index.h: Keras TextVectorization's defaults,
// vocabulary capped at the model's vocab_size), each review's LAST maxlen (+ 1, to tell a cut
// review from one that fits) words kept, as keras.utils.pad_sequences truncates ("pre").
struct WordIndexReviews {
  imdb::TokenizedReviews reviews;
  std::string description;  // "IMDB <folder>: 25000 reviews (...), word index of 20000 (of N words)"
};
WordIndexReviews read_word_index_reviews(const std::string& path, const SmallTransformerConfig& config, uint64_t seed);

// Keras's Adam with its defaults (model.compile(optimizer="adam")): lr 1e-3, betas (0.9, 0.999),
// epsilon 1e-7, no weight decay, no clipping, every parameter trained. (Keras adds epsilon before
// the bias correction of the second moment, torch after; the cost is the same.) fp16 trains under
// autocast with a GradScaler, bf16 under autocast, as Keras's mixed_float16 / mixed_bfloat16.
class TrainingSession : public TrainingSessionBase {
 public:
  static constexpr train::AdamWOptions kAdamW{1e-3, 0.9, 0.999, 1e-7};  // lr, betas, eps

  TrainingSession(const SmallTransformerConfig& config, const c10::Device& device, Precision precision, uint64_t seed);

  // Steps on these reviews instead of synthetic data.
  void use_data(WordIndexReviews data);

  std::string data_description() const override;
  SmallTransformer& transformer() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  const at::Tensor& input_ids() const { return input_ids_; }
  const at::Tensor& labels() const { return labels_; }

 private:
  // Synthetic: word ids (shape.batch, shape.seq) uniform in [2, vocab) (no padding, no OOV) and
  // labels uniform in [0, num_classes), drawn on the CPU from the seed and moved to the device.
  // Real data: back to the first batch of the shuffled reviews (each step loads its batch, padded
  // at the front as pad_sequences does, built on the host and copied to the device).
  void prepare_inputs(const Shape& shape) override;
  std::vector<at::Tensor*> batch_tensors() override { return {&input_ids_, &labels_}; }
  bool reads_data() const override { return data_.has_value(); }
  void load_next_batch() override;
  at::Tensor logits() override { return model_->forward(input_ids_); }
  at::Tensor loss() override { return at::cross_entropy_loss(logits(), labels_); }

  SmallTransformer model_{nullptr};
  std::optional<WordIndexReviews> data_;
  Shape shape_;
  at::Tensor input_ids_, labels_;
};

}  // namespace small_transformer
}  // namespace mlspeed
