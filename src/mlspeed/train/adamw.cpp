#include "mlspeed/train/adamw.h"

#include <cmath>
#include <utility>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/kernel_fault.h"
#include "mlspeed/train/adamw_cpu.h"

namespace mlspeed::train {

std::vector<ParamGroup> weight_decay_groups(const std::vector<at::Tensor>& params, double weight_decay) {
  ParamGroup decay{{}, weight_decay};
  ParamGroup no_decay{{}, 0.0};
  for (const auto& p : params) {
    if (!p.requires_grad()) continue;
    (p.dim() >= 2 ? decay : no_decay).params.push_back(p);
  }
  std::vector<ParamGroup> groups;
  if (!decay.params.empty()) groups.push_back(std::move(decay));
  if (!no_decay.params.empty()) groups.push_back(std::move(no_decay));
  return groups;
}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : groups_(std::move(groups)), options_(options) {
  TORCH_CHECK(!groups_.empty(), "[AdamW] no parameters to optimise");
  const at::Tensor& first = groups_.front().params.front();
  for (const auto& group : groups_) {
    for (const auto& p : group.params) {
      TORCH_CHECK(p.device() == first.device() && p.scalar_type() == first.scalar_type(),
                  "[AdamW] every parameter must share one device and dtype");
    }
    states_.emplace_back(group.params.size());
  }
  fused_ = compat::fused_adamw_available(first.device().type());
}

void AdamW::zero_grad() {
  for (auto& group : groups_)
    for (auto& p : group.params) p.mutable_grad() = at::Tensor();
}

AdamW::Batch AdamW::gather(size_t g) {
  Batch batch;
  auto& params = groups_[g].params;
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& grad = params[i].grad();
    if (!grad.defined()) continue;  // as PyTorch: a parameter without a gradient is not stepped
    State& s = states_[g][i];
    if (!s.exp_avg.defined()) {
      s.exp_avg = at::zeros_like(params[i], at::MemoryFormat::Preserve);
      s.exp_avg_sq = at::zeros_like(params[i], at::MemoryFormat::Preserve);
      if (fused_) s.step = at::zeros({}, params[i].options().dtype(at::kFloat));
    }
    batch.params.push_back(params[i]);
    batch.grads.push_back(grad);
    batch.exp_avgs.push_back(s.exp_avg);
    batch.exp_avg_sqs.push_back(s.exp_avg_sq);
    if (fused_) batch.steps.push_back(s.step);
    batch.states.push_back(&s);
  }
  return batch;
}

void AdamW::step(const std::optional<at::Tensor>& found_inf) {
  // The foreach kernels cannot be told to skip, so that path asks the host (one sync, fp16 only).
  if (!fused_ && found_inf && found_inf->item<float>() != 0.0f) return;
  for (size_t g = 0; g < groups_.size(); ++g) {
    Batch batch = gather(g);
    if (batch.params.empty()) continue;
    if (fused_)
      step_fused(batch, groups_[g].weight_decay, found_inf);
    else if (cpu_pass_takes(batch))
      step_cpu_pass(batch, groups_[g].weight_decay);
    else
      step_foreach(batch, groups_[g].weight_decay);
  }
}

void AdamW::step_fused(Batch& batch, double weight_decay, const std::optional<at::Tensor>& found_inf) {
  // As torch.optim's _fused_adamw: count the step first, let the kernel skip on inf, then take
  // the count back by found_inf (0 or 1) so that a skipped step leaves no trace.
  at::_foreach_add_(batch.steps, 1);
  compat::fused_adamw(batch.params, batch.grads, batch.exp_avgs, batch.exp_avg_sqs, batch.steps, options_.lr,
                      options_.beta1, options_.beta2, weight_decay, options_.eps,
                      found_inf ? c10::optional<at::Tensor>(*found_inf) : c10::nullopt);
  if (found_inf) {
    const at::Tensor skipped = found_inf->to(at::kFloat);
    at::_foreach_sub_(batch.steps, std::vector<at::Tensor>(batch.steps.size(), skipped));
  }
}

void AdamW::step_foreach(Batch& batch, double weight_decay) {
  const auto& o = options_;
  if (weight_decay != 0.0) at::_foreach_mul_(batch.params, 1.0 - o.lr * weight_decay);

  at::_foreach_mul_(batch.exp_avgs, o.beta1);
  at::_foreach_add_(batch.exp_avgs, batch.grads, 1.0 - o.beta1);
  at::_foreach_mul_(batch.exp_avg_sqs, o.beta2);
  at::_foreach_addcmul_(batch.exp_avg_sqs, batch.grads, batch.grads, 1.0 - o.beta2);

  // Bias corrections differ per tensor only if some parameter missed steps without a gradient.
  std::vector<at::Scalar> neg_step_sizes, bias_correction2_sqrts;
  for (State* s : batch.states) {
    const auto t = static_cast<double>(++s->steps);
    neg_step_sizes.emplace_back(-o.lr / (1.0 - std::pow(o.beta1, t)));
    bias_correction2_sqrts.emplace_back(std::sqrt(1.0 - std::pow(o.beta2, t)));
  }
  std::vector<at::Tensor> denom = at::_foreach_sqrt(batch.exp_avg_sqs);
  at::_foreach_div_(denom, bias_correction2_sqrts);
  at::_foreach_add_(denom, o.eps);
  at::_foreach_addcdiv_(batch.params, batch.exp_avgs, denom, neg_step_sizes);
}

namespace {

// Whether two tensors of one shape lay their elements out alike: the same strides wherever a
// dimension holds more than one element (a 1x1 convolution's weight is the same memory
// channels-last or not, and its gradient may come back with either strides).
bool same_layout(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return false;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (a.size(d) > 1 && a.stride(d) != b.stride(d)) return false;
  return true;
}

}  // namespace

bool AdamW::cpu_pass_takes(const Batch& batch) {
  if (!own_kernels()) return false;  // --kernels libtorch: LibTorch's foreach kernels
  // The pass walks each tensor's memory as one array: the four must be dense float32 in one layout
  // (ResNet's channels-last weights, their gradients and moments included).
  for (size_t i = 0; i < batch.params.size(); ++i) {
    const at::Tensor& p = batch.params[i];
    for (const at::Tensor* t : {&p, &batch.grads[i], &batch.exp_avgs[i], &batch.exp_avg_sqs[i]})
      if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || t->is_sparse() ||
          !t->is_non_overlapping_and_dense() || !same_layout(*t, p))
        return false;
  }
  return true;
}

void AdamW::step_cpu_pass(Batch& batch, double weight_decay) {
  const auto& o = options_;
  // The verifier's optimizer-update-dropped fault, which breaks LibTorch's _foreach_addcdiv_ beside it.
  const bool update = fused::kernel_fault() != fused::KernelFault::optimizer_update_dropped;
  for (size_t i = 0; i < batch.params.size(); ++i) {
    const auto t = static_cast<double>(++batch.states[i]->steps);
    const AdamWCpuStep step{static_cast<float>(1.0 - o.lr * weight_decay),
                            static_cast<float>(o.beta1),
                            static_cast<float>(o.beta2),
                            static_cast<float>(o.lr / (1.0 - std::pow(o.beta1, t))),
                            static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(o.beta2, t))),
                            static_cast<float>(o.eps),
                            update};
    adamw_cpu_pass(batch.params[i].data_ptr<float>(), batch.grads[i].data_ptr<float>(),
                   batch.exp_avgs[i].data_ptr<float>(), batch.exp_avg_sqs[i].data_ptr<float>(),
                   batch.params[i].numel(), step);
    batch.params[i].unsafeGetTensorImpl()->bump_version();  // written in place, as an in-place op says
  }
}

at::Tensor clip_grad_norm_(const std::vector<at::Tensor>& params, double max_norm) {
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return at::zeros({});
  const std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  const at::Tensor total_norm = at::linalg_vector_norm(at::stack(norms), 2);
  const at::Tensor coefficient = at::clamp_max(max_norm / (total_norm + 1e-6), 1.0);
  compat::foreach_mul_(grads, coefficient);
  return total_norm;
}

}  // namespace mlspeed::train
