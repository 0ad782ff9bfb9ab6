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
#include "mlspeed/train/adamw.h"
#include "mlspeed/train/grad_scaler.h"
#include "mlspeed/train/step.h"
#include "mlspeed/workloads/workload.h"

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
class TrainingSession : public Session {
 public:
  static constexpr double kLearningRate = 1e-3;
  static constexpr double kBeta1 = 0.9;
  static constexpr double kBeta2 = 0.999;
  static constexpr double kEps = 1e-7;

  TrainingSession(const SmallTransformerConfig& config, const c10::Device& device, Precision precision, uint64_t seed);

  // Steps on these reviews instead of synthetic data.
  void use_data(WordIndexReviews data);

  // Synthetic: word ids (shape.batch, shape.seq) uniform in [2, vocab) (no padding, no OOV) and
  // labels uniform in [0, num_classes), drawn on the CPU from the seed and moved to the device.
  // Real data: back to the first batch of the shuffled reviews (step() loads each batch).
  void prepare(const Shape& shape) override;
  // [real data: the next batch, padded at the front as pad_sequences does, built on the host and
  // copied to the device] -> zero_grad -> forward + cross-entropy (autocast) -> backward -> Adam.
  void step() override;
  GraphSupport graph_support() const override { return train::graph_support(*optimizer_, data_.has_value()); }
  std::string data_description() const override;

  SmallTransformer& transformer() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  at::Tensor last_output() const override { return last_loss_; }
  // The logits of the prepared batch, under autocast as in step().
  at::Tensor forward() override;
  const at::Tensor& last_loss() const { return last_loss_; }
  const train::AdamW& optimizer() const { return *optimizer_; }
  const at::Tensor& input_ids() const { return input_ids_; }
  const at::Tensor& labels() const { return labels_; }

 private:
  void load_next_batch();

  c10::Device device_;
  uint64_t seed_;
  std::optional<at::ScalarType> autocast_dtype_;
  SmallTransformer model_{nullptr};
  std::vector<at::Tensor> params_;
  std::unique_ptr<train::AdamW> optimizer_;
  std::optional<train::GradScaler> scaler_;  // fp16 only
  std::optional<WordIndexReviews> data_;
  Shape shape_;
  bool prepared_ = false;
  at::Tensor input_ids_, labels_;
  at::Tensor last_loss_;
};

}  // namespace small_transformer
}  // namespace mlspeed
