#include "mlspeed/train/grad_scaler.h"

#include "mlspeed/train/adamw.h"

namespace mlspeed::train {

GradScaler::GradScaler(const c10::Device& device, GradScalerOptions options)
    : options_(options), device_(device) {
  TORCH_CHECK(options_.growth_interval > 0, "[GradScaler] growth_interval must be positive");
  const auto f32 = at::TensorOptions().device(device_).dtype(at::kFloat);
  scale_ = at::full({}, options_.init_scale, f32);
  growth_tracker_ = at::zeros({}, f32.dtype(at::kInt));
  found_inf_ = at::zeros({}, f32);
}

at::Tensor GradScaler::scale(const at::Tensor& loss) const { return loss * scale_; }

at::Tensor GradScaler::unscale_(const std::vector<at::Tensor>& params) {
  TORCH_CHECK(!unscaled_, "[GradScaler] unscale_ was already called since the last update()");
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  // PyTorch takes this reciprocal in float64, which MPS lacks; with the default factors the scale
  // stays a power of two, whose float32 reciprocal is exact anyway.
  const at::Tensor inv_scale = scale_.reciprocal();
  found_inf_.zero_();
  if (grads.empty()) {
    // Nothing to check or unscale.
  } else if (device_.is_cuda()) {
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf_, inv_scale);
  } else {
    std::vector<at::Tensor> bad;
    bad.reserve(grads.size());
    for (const auto& g : grads) bad.push_back(at::isfinite(g).all().logical_not());
    found_inf_.copy_(at::stack(bad).any());
    for (const auto& g : grads) g.mul_(inv_scale);
  }
  unscaled_ = true;
  return found_inf_;
}

void GradScaler::step(AdamW& optimizer) {
  if (!unscaled_) {
    std::vector<at::Tensor> params;
    for (const auto& group : optimizer.groups())
      params.insert(params.end(), group.params.begin(), group.params.end());
    unscale_(params);
  }
  optimizer.step(found_inf_);
}

void GradScaler::update() {
  TORCH_CHECK(unscaled_, "[GradScaler] update() before any unscale_ or step of this iteration");
  if (device_.is_cuda()) {
    at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, options_.growth_factor,
                           options_.backoff_factor, options_.growth_interval);
  } else {
    update_plain();
  }
  unscaled_ = false;
}

// The logic of ATen's _amp_update_scale_ kernel, on the device without branching on the host.
void GradScaler::update_plain() {
  const at::Tensor found = found_inf_ > 0;
  const at::Tensor clean_steps = growth_tracker_ + 1;
  const at::Tensor grown = scale_ * options_.growth_factor;
  // Grow only into a finite scale; either way the count of clean steps starts again.
  const at::Tensor grow = found.logical_not().logical_and(clean_steps >= options_.growth_interval);
  const at::Tensor kept_or_grown = at::where(grow.logical_and(at::isfinite(grown)), grown, scale_);
  scale_.copy_(at::where(found, scale_ * options_.backoff_factor, kept_or_grown));
  growth_tracker_.copy_(at::where(found.logical_or(grow), at::zeros_like(clean_steps), clean_steps));
}

double GradScaler::current_scale() const { return scale_.item<double>(); }

}  // namespace mlspeed::train
