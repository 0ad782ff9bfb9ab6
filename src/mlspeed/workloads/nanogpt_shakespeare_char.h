// nanogpt-shakespeare-char (nanoGPT): nanoGPT's character-level Shakespeare run, timed as whole
// training steps of train.py with config/train_shakespeare_char.py's hyperparameters.
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
#include "mlspeed/data/char_text.h"
#include "mlspeed/models/gpt.h"
#include "mlspeed/workloads/training_session.h"

namespace mlspeed {

std::unique_ptr<Workload> make_nanogpt_shakespeare_char();

namespace nanogpt {

// The model configuration of a size of the workload ("tiny", "full"); throws std::invalid_argument
// for any other name.
GPTConfig shakespeare_char_config(const std::string& size);

// train.py's step, from config/train_shakespeare_char.py: AdamW lr 1e-3, betas (0.9, 0.99),
// weight decay 0.1 on matrices, eps 1e-8; gradients clipped to norm 1.0. The learning-rate
// schedule is left out: a constant rate costs the same per step.
class TrainingSession : public TrainingSessionBase {
 public:
  static constexpr train::AdamWOptions kAdamW{1e-3, 0.9, 0.99, 1e-8};  // lr, betas, eps
  static constexpr double kWeightDecay = 0.1;
  static constexpr double kGradClip = 1.0;

  // Builds the model on the CPU from the seed (the same weights for every device), then moves
  // it. With `data` (a text file), every step first loads a batch from it as train.py's get_batch.
  TrainingSession(const GPTConfig& config, const c10::Device& device, Precision precision, uint64_t seed,
                  const std::string& data = {});

  std::string data_description() const override;
  GPT& gpt() { return model_; }
  torch::nn::Module& model() override { return *model_; }

 private:
  // Synthetic: next_token_batch (train.py's get_batch on uniform token ids), moved to the device
  // here, never in step(). With a data file: the first batch of a batch generator seeded from
  // the seed.
  void prepare_inputs(const Shape& shape) override;
  std::vector<at::Tensor*> batch_tensors() override { return {&x_, &y_}; }
  bool reads_data() const override { return text_.has_value(); }
  void load_next_batch() override;  // from text_, as train.py's get_batch (pinned, non-blocking copy on CUDA)
  at::Tensor logits() override { return model_->forward(x_); }
  at::Tensor loss() override;

  GPT model_{nullptr};
  std::optional<data::CharText> text_;
  std::optional<at::Generator> batches_;
  Shape shape_;
  at::Tensor x_, y_;
};

}  // namespace nanogpt
}  // namespace mlspeed
