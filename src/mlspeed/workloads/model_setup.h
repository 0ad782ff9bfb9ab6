// How every workload builds its model, in one place: random weights drawn on the CPU from the
// seed (identical on every device), then moved, and for inference cast to the precision's model
// dtype.
#pragma once

#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/utils.h>

#include <cstdint>

#include "mlspeed/core/precision.h"

namespace mlspeed {

// Seeds the global generator and builds the model on the CPU: the same weights on every device.
template <typename Model, typename Config>
Model build_on_cpu(const Config& config, uint64_t seed) {
  torch::manual_seed(seed);
  return Model(config);
}

// Moves an inference model to `device` in the precision's model dtype. A float32 model is only
// moved: Module::to(device, dtype) would also convert integer buffers.
inline void move_for_inference(torch::nn::Module& model, const c10::Device& device, Precision precision) {
  const at::ScalarType dtype = model_dtype(precision);
  if (dtype == at::kFloat)
    model.to(device);
  else
    model.to(device, dtype);
}

}  // namespace mlspeed
