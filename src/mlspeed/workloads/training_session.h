// The session every training workload shares: one optimizer step of a float32 model, its forward
// under autocast for fp16/bf16 (fp16 with a GradScaler; fp32 and tf32 are plain float32, TF32
// being the runner's), then backward, optional clipping and AdamW (train/step.h). A workload's
// session adds its model, its inputs and its loss.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/train/adamw.h"
#include "mlspeed/train/grad_scaler.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

class TrainingSessionBase : public Session {
 public:
  // Forgets the last loss, then prepare_inputs(); step() and forward() refuse to run before.
  void prepare(const Shape& shape) final;
  // [the next batch, when reading a data set] -> zero_grad(set_to_none) -> loss() under autocast
  // -> backward (scaled for fp16) -> clipping -> AdamW. No host synchronisation, except the
  // foreach optimiser's fp16 skip check (see train/adamw.h).
  void step() final;
  // logits() under autocast, as step() runs them.
  at::Tensor forward() final;
  GraphSupport graph_support() const final;
  at::Tensor last_output() const final { return last_loss_; }

  const at::Tensor& last_loss() const { return last_loss_; }  // of the last step, detached, on the device
  const train::AdamW& optimizer() const { return *optimizer_; }

  // Data parallelism (parallel/): this session is rank `rank` of `world`. prepare() then makes the
  // combined batch of world x shape.batch rows from the seed, as one process would, and keeps this
  // rank's rows of it; `sync` runs after each backward pass, before clipping and the optimizer
  // (the gradient reducer's finish()). The step, all-reduces included, is recorded as a CUDA graph
  // as one process's is (NCCL >= 2.9 captures its collectives); `agree` answers
  // every_rank_recorded() for the group (none: this rank alone). Refused (c10::Error) with a data
  // set, which every rank would read whole.
  void set_data_parallel(int rank, int world, std::function<void()> sync, std::function<bool(bool)> agree = {});
  bool every_rank_recorded(bool recorded) final { return agree_ ? agree_(recorded) : recorded; }
  // The trained parameters in the order the model registers them (the reducer's buckets).
  const std::vector<at::Tensor>& trained_parameters() const { return params_; }

 protected:
  // Refuses (c10::Error) a precision this LibTorch cannot autocast on the device, before the
  // derived session builds anything.
  TrainingSessionBase(std::string workload, const c10::Device& device, Precision precision, uint64_t seed);

  // Once the model is built, moved and in train mode: AdamW over `groups`; `params` are the
  // trained tensors in the order clipping and loss scaling visit them; clip_norm 0: no clipping.
  void start_training(std::vector<at::Tensor> params, std::vector<train::ParamGroup> groups,
                      const train::AdamWOptions& options, double clip_norm);

  // Makes the inputs of `shape` (synthetic from the seed, or rewinds the data set).
  virtual void prepare_inputs(const Shape& shape) = 0;
  // The prepared inputs whose first dimension is the batch (undefined ones are skipped): data
  // parallelism keeps each rank's rows of them.
  virtual std::vector<at::Tensor*> batch_tensors() = 0;
  // With a data set, step() loads each batch on the host (and no CUDA graph can replay it).
  virtual bool reads_data() const { return false; }
  virtual void load_next_batch() {}
  // The model's output on the current inputs, and the loss of a step; both run under autocast.
  virtual at::Tensor logits() = 0;
  virtual at::Tensor loss() = 0;

  const std::string& workload() const { return workload_; }
  const c10::Device& device() const { return device_; }
  uint64_t seed() const { return seed_; }

 private:
  at::Tensor under_autocast(const std::function<at::Tensor()>& run) const;

  std::string workload_;
  c10::Device device_;
  uint64_t seed_;
  Precision precision_;
  std::optional<at::ScalarType> autocast_dtype_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<train::AdamW> optimizer_;
  std::optional<train::GradScaler> scaler_;  // fp16 only
  double clip_norm_ = 0;
  int rank_ = 0, world_ = 1;
  std::function<void()> sync_;
  std::function<bool(bool)> agree_;
  bool prepared_ = false;
  at::Tensor last_loss_;
};

}  // namespace mlspeed
