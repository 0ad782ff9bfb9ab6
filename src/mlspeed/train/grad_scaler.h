// Dynamic loss scaling for float16 training, as torch.amp.GradScaler does it: the loss is
// multiplied by a large scale so that small gradients survive float16; the gradients are divided
// back before the optimizer sees them; a step whose gradients hold inf/NaN is skipped and the
// scale is halved; after `growth_interval` clean steps in a row the scale doubles.
//
// The scale, the growth tracker and found_inf live on the device, so the usual sequence
//   scale(loss).backward(); unscale_(params); clip; step(optimizer); update();
// needs no host synchronisation where the optimizer can skip on the device (fused AdamW).
// On CUDA it uses ATen's _amp_* kernels; elsewhere the same logic in plain tensor ops.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

namespace mlspeed::train {

class AdamW;

struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(const c10::Device& device, GradScalerOptions options = {});

  // loss * scale, for backward.
  at::Tensor scale(const at::Tensor& loss) const;
  // Divides the gradients of `params` by the scale in place and records whether any of them is
  // inf/NaN. Returns found_inf: a float32 0-d device tensor, 1 if so, else 0. Once per step.
  at::Tensor unscale_(const std::vector<at::Tensor>& params);
  // Unscales the optimizer's parameters if unscale_ was not called, then steps it unless the
  // gradients were not finite.
  void step(AdamW& optimizer);
  // Adjusts the scale from this step's found_inf and readies the scaler for the next step.
  void update();

  const at::Tensor& scale_tensor() const { return scale_; }   // float32 0-d, on the device
  const at::Tensor& found_inf() const { return found_inf_; }  // of the last unscale_
  double current_scale() const;                               // reads the device (tests, logs)

 private:
  void update_plain();

  GradScalerOptions options_;
  c10::Device device_;
  at::Tensor scale_;           // float32 0-d
  at::Tensor growth_tracker_;  // int32 0-d: clean steps in a row
  at::Tensor found_inf_;       // float32 0-d
  bool unscaled_ = false;
};

}  // namespace mlspeed::train
