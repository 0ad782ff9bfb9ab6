// What every training workload's step shares: the precision rules (autocast dtype) and the update
// after the forward (backward, loss scaling, clipping, the optimizer).
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <functional>
#include <optional>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/device/graph.h"
#include "mlspeed/train/adamw.h"
#include "mlspeed/train/grad_scaler.h"

namespace mlspeed::train {

// The precision's autocast dtype (core/precision.h), refusing with c10::Error what this LibTorch
// cannot autocast on the device (1.13 has no float16 autocast on the CPU), before anything is built.
std::optional<at::ScalarType> supported_autocast_dtype(Precision precision, const c10::Device& device,
                                                       const char* workload);

// Whether a training step with `optimizer` can be replayed from a CUDA graph: not when each step
// reads its batch on the host (`reads_data`), nor when the optimizer keeps its step count on the
// host (the _foreach_ path: a graph would replay the first step's bias correction forever).
GraphSupport graph_support(const AdamW& optimizer, bool reads_data);

// The update after a forward: backward (scaled for fp16), then `after_backward` where given (data
// parallelism's all-reduce of the gradients: every rank then clips, unscales and steps on the
// same averaged gradients), optionally clipping the true (unscaled) gradients to `clip_norm` (0:
// no clipping), then the optimizer (skipped by the scaler on inf/NaN). No host synchronisation
// beyond what the optimizer's path needs (see train/adamw.h).
void backward_and_update(const at::Tensor& loss, const std::vector<at::Tensor>& params, AdamW& optimizer,
                         std::optional<GradScaler>& scaler, double clip_norm,
                         const std::function<void()>& after_backward = {});

}  // namespace mlspeed::train
