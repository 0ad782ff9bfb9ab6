#include "mlspeed/parallel/gradient_reducer.h"

#include <c10/util/Exception.h>

#include <utility>

namespace mlspeed::parallel {

GradientReducer::GradientReducer(std::vector<at::Tensor> params, c10::intrusive_ptr<c10d::ProcessGroup> group,
                                 int64_t cap_bytes)
    : params_(std::move(params)), group_(std::move(group)), buckets_(assign_buckets(params_, cap_bytes)) {
  slots_.resize(params_.size());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    int64_t offset = 0;
    for (size_t i = 0; i < buckets_[b].params.size(); ++i) {
      const size_t k = buckets_[b].params[i];
      slots_[k] = Slot{b, i, offset};
      offset += params_[k].numel();
    }
    buffers_.push_back(at::zeros({offset}, params_[buckets_[b].params.front()].options()));
    filled_.emplace_back(buckets_[b].params.size(), false);
    missing_.push_back(buckets_[b].params.size());
  }
  works_.resize(buckets_.size());
  // A hook on a leaf runs once per backward pass with its whole gradient (the sum over every use
  // of the parameter), before it is accumulated into .grad.
  for (size_t k = 0; k < params_.size(); ++k) {
    TORCH_CHECK(params_[k].requires_grad(), "[parallel] parameter ", k, " does not require a gradient");
    hooks_.push_back(params_[k].register_hook([this, k](const at::Tensor& grad) {
      gradient_ready(k, grad);
      return grad;
    }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < hooks_.size(); ++k) params_[k].remove_hook(hooks_[k]);
}

void GradientReducer::broadcast_parameters() {
  at::NoGradGuard no_grad;
  for (at::Tensor& p : params_) {
    std::vector<at::Tensor> one{p.detach()};
    group_->broadcast(one)->wait();
  }
}

void GradientReducer::gradient_ready(size_t param, const at::Tensor& grad) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const Slot& slot = slots_[param];
  TORCH_CHECK(!filled_[slot.bucket][slot.position], "[parallel] parameter ", param,
              "'s gradient arrived twice in one step: call finish() after each backward pass");
  buffers_[slot.bucket].narrow(0, slot.offset, grad.numel()).copy_(grad.reshape({-1}));
  filled_[slot.bucket][slot.position] = true;
  if (--missing_[slot.bucket] == 0) launch_ready_buckets();
}

void GradientReducer::launch_ready_buckets() {
  // In bucket order only: every rank must start the same collectives in the same order.
  while (next_bucket_ < buckets_.size() && missing_[next_bucket_] == 0) {
    at::Tensor& buffer = buffers_[next_bucket_];
    buffer.div_(static_cast<double>(group_->getSize()));
    std::vector<at::Tensor> one{buffer};
    works_[next_bucket_] = group_->allreduce(one);
    ++next_bucket_;
  }
}

void GradientReducer::finish() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (size_t b = next_bucket_; b < buckets_.size(); ++b) {
      for (size_t i = 0; i < buckets_[b].params.size(); ++i)
        if (!filled_[b][i]) {
          const size_t k = buckets_[b].params[i];
          buffers_[b].narrow(0, slots_[k].offset, params_[k].numel()).zero_();
        }
      missing_[b] = 0;
    }
    launch_ready_buckets();
  }
  at::NoGradGuard no_grad;
  for (size_t b = 0; b < buckets_.size(); ++b) {
    works_[b]->wait();
    for (size_t k : buckets_[b].params) {
      const at::Tensor averaged = buffers_[b].narrow(0, slots_[k].offset, params_[k].numel()).view_as(params_[k]);
      if (params_[k].grad().defined()) params_[k].mutable_grad().copy_(averaged);
      else params_[k].mutable_grad() = averaged.clone();
    }
    std::fill(filled_[b].begin(), filled_[b].end(), false);
    missing_[b] = buckets_[b].params.size();
    works_[b].reset();
  }
  next_bucket_ = 0;
}

}  // namespace mlspeed::parallel
