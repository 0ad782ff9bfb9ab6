#include "mlspeed/workloads/training_session.h"

#include <utility>

#include "mlspeed/train/autocast.h"
#include "mlspeed/train/step.h"

namespace mlspeed {

TrainingSessionBase::TrainingSessionBase(std::string workload, const c10::Device& device, Precision precision,
                                         uint64_t seed)
    : workload_(std::move(workload)),
      device_(device),
      seed_(seed),
      precision_(precision),
      autocast_dtype_(train::supported_autocast_dtype(precision, device, workload_.c_str())) {}

void TrainingSessionBase::start_training(std::vector<at::Tensor> params, std::vector<train::ParamGroup> groups,
                                         const train::AdamWOptions& options, double clip_norm) {
  params_ = std::move(params);
  // The fused AdamW kernel where LibTorch has it for the device (CUDA >= 2.0, CPU >= 2.4), the
  // _foreach_ implementation elsewhere.
  optimizer_ = std::make_unique<train::AdamW>(std::move(groups), options);
  if (scales_loss(precision_)) scaler_.emplace(device_);
  clip_norm_ = clip_norm;
}

void TrainingSessionBase::set_data_parallel(int rank, int world, std::function<void()> sync,
                                            std::function<bool(bool)> agree) {
  TORCH_CHECK(world >= 1 && rank >= 0 && rank < world, "[", workload_, "] rank ", rank, " of ", world);
  TORCH_CHECK(world == 1 || !reads_data(), "[", workload_,
              "] data-parallel training reads synthetic batches only: each rank would read the whole data set");
  rank_ = rank;
  world_ = world;
  sync_ = std::move(sync);
  agree_ = std::move(agree);
}

void TrainingSessionBase::prepare(const Shape& shape) {
  prepared_ = false;
  last_loss_ = at::Tensor();
  if (world_ == 1) {
    prepare_inputs(shape);
  } else {
    Shape combined = shape;
    combined.batch *= world_;
    prepare_inputs(combined);
    for (at::Tensor* t : batch_tensors())
      if (t->defined()) *t = t->narrow(0, rank_ * shape.batch, shape.batch).contiguous();
  }
  prepared_ = true;
}

at::Tensor TrainingSessionBase::under_autocast(const std::function<at::Tensor()>& run) const {
  std::optional<train::AutocastGuard> autocast;
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return run();
}

at::Tensor TrainingSessionBase::forward() {
  TORCH_CHECK(prepared_, "[", workload_, "] forward() before prepare()");
  return under_autocast([this] { return logits(); });
}

void TrainingSessionBase::step() {
  TORCH_CHECK(prepared_, "[", workload_, "] step() before prepare()");
  if (reads_data()) load_next_batch();
  optimizer_->zero_grad();
  // Only the forward runs under autocast; backward follows the dtypes it recorded.
  const at::Tensor loss = under_autocast([this] { return this->loss(); });
  train::backward_and_update(loss, params_, *optimizer_, scaler_, clip_norm_, sync_);
  last_loss_ = loss.detach();
}

GraphSupport TrainingSessionBase::graph_support() const {
  return train::graph_support(*optimizer_, reads_data());
}

}  // namespace mlspeed
