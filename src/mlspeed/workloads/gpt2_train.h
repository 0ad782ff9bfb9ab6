// gpt2-train (nanoGPT): GPT-2 small trained as nanoGPT's train.py trains it with
// config/train_gpt2.py, one timed step = one micro-batch's forward + backward + the optimizer.
//
// What differs from train.py, and why:
//  * The model is GPT-2 small as published (SPEC.md: vocab 50257, biases, 124,439,808
//    parameters, the Hugging Face layout so real weights load), where train.py from scratch uses
//    nanoGPT's defaults bias=False and the vocabulary padded to 50304.
//  * train_gpt2.py accumulates gradients over 5 * 8 = 40 micro-batches of 12 per optimizer step
//    (on one GPU). A timed step here is ONE micro-batch (batch 12 x block 1024 by default) plus
//    clipping and the AdamW update, so the optimizer's cost is paid every micro-batch instead of
//    every 40th: tokens/s is slightly below train.py's for the same hardware. Accumulation adds
//    no new kind of work; time it with a larger --batch.
//  * The learning-rate schedule (warm-up, cosine decay) is left out: a constant rate costs the
//    same per step.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/train/adamw.h"
#include "mlspeed/train/grad_scaler.h"
#include "mlspeed/train/step.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

std::unique_ptr<Workload> make_gpt2_train();

namespace gpt2 {

// The model of a size, shared by gpt2-train and gpt2-generate: "full" is GPT-2 small, "tiny" a
// 2-layer model of ~44k parameters with the same code paths. Throws std::invalid_argument for
// any other name.
GPT2Config small_config(const std::string& size);

// train.py's step with config/train_gpt2.py: AdamW lr 6e-4, betas (0.9, 0.95), weight decay 0.1
// on matrices and embeddings, eps 1e-8; gradients clipped to norm 1.0; dropout 0.
class TrainingSession : public Session {
 public:
  static constexpr double kLearningRate = 6e-4;
  static constexpr double kBeta1 = 0.9;
  static constexpr double kBeta2 = 0.95;
  static constexpr double kWeightDecay = 0.1;
  static constexpr double kEps = 1e-8;
  static constexpr double kGradClip = 1.0;

  // Seeds the global generator, builds the model on the CPU (the same weights for every
  // device), then moves it. fp16/bf16 train under autocast with float32 weights (fp16 with a
  // GradScaler); fp32 and tf32 are both plain float32 here (the runner switches TF32). Throws if
  // this LibTorch cannot autocast the device to that dtype.
  TrainingSession(const GPT2Config& config, const c10::Device& device, Precision precision, uint64_t seed);

  // Batch (shape.batch, shape.seq) of token ids uniform in [0, vocab), drawn on the CPU from the
  // seed as seq + 1 tokens per row; targets are the inputs shifted by one (train.py's get_batch).
  // Moved to the device here, never in step().
  void prepare(const Shape& shape) override;
  // zero_grad(set_to_none) -> forward + cross-entropy (autocast) -> backward (scaled for fp16)
  // -> clip_grad_norm_(1.0) -> AdamW. No host synchronisation, except the foreach optimiser's
  // fp16 skip check (see train/adamw.h).
  void step() override;
  GraphSupport graph_support() const override { return train::graph_support(*optimizer_, false); }

  const at::Tensor& last_loss() const { return last_loss_; }
  GPT2Model& gpt2() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  at::Tensor last_output() const override { return last_loss_; }
  // The logits of the prepared batch, under autocast as in step().
  at::Tensor forward() override;

 private:
  at::Tensor forward_loss();

  c10::Device device_;
  uint64_t seed_;
  std::optional<at::ScalarType> autocast_dtype_;
  GPT2Model model_{nullptr};
  std::vector<at::Tensor> params_;
  std::unique_ptr<train::AdamW> optimizer_;
  std::optional<train::GradScaler> scaler_;  // fp16 only
  at::Tensor x_, y_;
  at::Tensor last_loss_;
};

}  // namespace gpt2
}  // namespace mlspeed
