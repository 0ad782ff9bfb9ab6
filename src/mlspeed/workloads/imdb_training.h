// What the two IMDB text-classification workloads (distilbert-imdb, small-transformer-imdb)
// share: the precision rules of a training step, its update, and the shape checks.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <optional>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/train/adamw.h"
#include "mlspeed/train/grad_scaler.h"

namespace mlspeed::imdb {

// The dtype a training forward autocasts to (fp16, bf16), or none (fp32, tf32); refuses with
// c10::Error what this LibTorch cannot autocast on the device, before anything is built.
std::optional<at::ScalarType> training_autocast_dtype(Precision precision, const c10::Device& device,
                                                      const char* workload);

// The update after a forward: backward (scaled for fp16), optionally clipping the gradients to
// `clip_norm` (0: no clipping), then the optimizer (skipped by the scaler on inf/NaN). No host
// synchronisation beyond what the optimizer's path needs (see train/adamw.h).
void backward_and_update(const at::Tensor& loss, const std::vector<at::Tensor>& params, train::AdamW& optimizer,
                         std::optional<train::GradScaler>& scaler, double clip_norm);

}  // namespace mlspeed::imdb
