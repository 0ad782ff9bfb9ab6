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
#include "mlspeed/workloads/training_session.h"

namespace mlspeed {

std::unique_ptr<Workload> make_gpt2_train();

namespace gpt2 {

// The model of a size, shared by gpt2-train and gpt2-generate: "full" is GPT-2 small, "tiny" a
// 2-layer model of ~44k parameters with the same code paths. Throws std::invalid_argument for
// any other name.
GPT2Config small_config(const std::string& size);

// train.py's step with config/train_gpt2.py: AdamW lr 6e-4, betas (0.9, 0.95), weight decay 0.1
// on matrices and embeddings, eps 1e-8; gradients clipped to norm 1.0; dropout 0.
class TrainingSession : public TrainingSessionBase {
 public:
  static constexpr train::AdamWOptions kAdamW{6e-4, 0.9, 0.95, 1e-8};  // lr, betas, eps
  static constexpr double kWeightDecay = 0.1;
  static constexpr double kGradClip = 1.0;

  // Builds the model on the CPU from the seed (the same weights for every device), then moves it.
  TrainingSession(const GPT2Config& config, const c10::Device& device, Precision precision, uint64_t seed);

  GPT2Model& gpt2() { return model_; }
  torch::nn::Module& model() override { return *model_; }

 private:
  // next_token_batch (train.py's get_batch on uniform token ids), moved to the device here,
  // never in step().
  void prepare_inputs(const Shape& shape) override;
  std::vector<at::Tensor*> batch_tensors() override { return {&x_, &y_}; }
  at::Tensor logits() override { return model_->forward(x_); }
  at::Tensor loss() override { return model_->loss(x_, y_); }

  GPT2Model model_{nullptr};
  at::Tensor x_, y_;
};

}  // namespace gpt2
}  // namespace mlspeed
