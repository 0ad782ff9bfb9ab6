// Autocast as a scope, like Python's `with torch.autocast(device_type, dtype):`.
//
// While a guard lives, eligible ops on `device` (matmul, linear, conv, ...) run in `dtype`;
// weights stay float32. Autocast keeps a cache of the lower-precision copies of leaf tensors
// (the weights) for the whole outermost region. That cache must be dropped when the outermost
// guard exits: the optimizer changes the weights in place between steps, and a stale cached
// copy would silently train on last step's weights.
#pragma once

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed::train {

class AutocastGuard {
 public:
  // Precondition: compat::autocast_supports(device, dtype).
  AutocastGuard(c10::DeviceType device, at::ScalarType dtype)
      : device_(device), previous_dtype_(compat::autocast_dtype(device)) {
    was_enabled_ = compat::set_autocast(device, /*enabled=*/true, dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    compat::set_autocast(device_, was_enabled_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;
  AutocastGuard(AutocastGuard&&) = delete;
  AutocastGuard& operator=(AutocastGuard&&) = delete;

 private:
  c10::DeviceType device_;
  at::ScalarType previous_dtype_;
  bool was_enabled_ = false;
};

}  // namespace mlspeed::train
