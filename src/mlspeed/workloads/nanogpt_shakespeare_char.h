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
#include "mlspeed/train/adamw.h"
#include "mlspeed/train/grad_scaler.h"
#include "mlspeed/train/step.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

std::unique_ptr<Workload> make_nanogpt_shakespeare_char();

namespace nanogpt {

// The model configuration of a size of the workload ("tiny", "full"); throws std::invalid_argument
// for any other name.
GPTConfig shakespeare_char_config(const std::string& size);

// train.py's step, from config/train_shakespeare_char.py: AdamW lr 1e-3, betas (0.9, 0.99),
// weight decay 0.1 on matrices, eps 1e-8; gradients clipped to norm 1.0. The learning-rate
// schedule is left out: a constant rate costs the same per step.
class TrainingSession : public Session {
 public:
  static constexpr double kLearningRate = 1e-3;
  static constexpr double kBeta1 = 0.9;
  static constexpr double kBeta2 = 0.99;
  static constexpr double kWeightDecay = 0.1;
  static constexpr double kEps = 1e-8;
  static constexpr double kGradClip = 1.0;

  // Seeds the global generator, builds the model on the CPU (the same weights for every
  // device), then moves it. fp16/bf16 train under autocast with float32 weights (fp16 with a
  // GradScaler); fp32 and tf32 are both plain float32 here (the runner switches TF32).
  // Throws if this LibTorch cannot autocast the device to that dtype.
  // With `data` (a text file), every step first loads a batch from it as train.py's get_batch.
  TrainingSession(const GPTConfig& config, const c10::Device& device, Precision precision, uint64_t seed,
                  const std::string& data = {});

  // Batch (shape.batch, shape.seq) of token ids, uniform in [0, vocab), drawn on the CPU from
  // the seed as a stream of seq + 1 tokens per row; targets are the inputs shifted by one, as
  // train.py's get_batch. Moved to the device here, never in step().
  // With a data file: the first batch of a batch generator seeded from the seed.
  void prepare(const Shape& shape) override;
  // zero_grad(set_to_none) -> forward + cross-entropy (autocast) -> backward (scaled for fp16)
  // -> clip_grad_norm_(1.0) -> AdamW. No host synchronisation, except the foreach optimiser's
  // fp16 skip check (see train/adamw.h).
  void step() override;
  GraphSupport graph_support() const override { return train::graph_support(*optimizer_, text_.has_value()); }
  std::string data_description() const override;

  const at::Tensor& last_loss() const { return last_loss_; }  // of the last step, detached, on the device
  GPT& gpt() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  at::Tensor last_output() const override { return last_loss_; }
  // The logits of the prepared batch, under autocast as in step().
  at::Tensor forward() override;
  const train::AdamW& optimizer() const { return *optimizer_; }

 private:
  at::Tensor forward_loss();
  void load_batch();  // from text_, as train.py's get_batch (pinned, non-blocking copy on CUDA)

  c10::Device device_;
  uint64_t seed_;
  std::optional<at::ScalarType> autocast_dtype_;
  GPT model_{nullptr};
  std::vector<at::Tensor> params_;
  std::unique_ptr<train::AdamW> optimizer_;
  std::optional<train::GradScaler> scaler_;  // fp16 only
  std::optional<data::CharText> text_;
  std::optional<at::Generator> batches_;
  Shape shape_;
  at::Tensor x_, y_;
  at::Tensor last_loss_;
};

}  // namespace nanogpt
}  // namespace mlspeed
