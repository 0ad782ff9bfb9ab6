#include "mlspeed/train/step.h"

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed::train {

std::optional<at::ScalarType> supported_autocast_dtype(Precision precision, const c10::Device& device,
                                                       const char* workload) {
  const std::optional<at::ScalarType> dtype = autocast_dtype(precision);
  TORCH_CHECK(!dtype || compat::autocast_supports(device.type(), *dtype), "[", workload,
              "] this LibTorch cannot autocast to ", *dtype, " on ", device);
  return dtype;
}

GraphSupport graph_support(const AdamW& optimizer, bool reads_data) {
  if (reads_data)
    return {GraphScope::none,
            "each step reads its batch from the data set on the host (--data); without --data the step is "
            "recorded as a CUDA graph"};
  if (!optimizer.fused())
    return {GraphScope::none,
            "this LibTorch has no fused AdamW for the device: its step count lives on the host, so a CUDA "
            "graph would replay the first step's bias correction"};
  return {};
}

void backward_and_update(const at::Tensor& loss, const std::vector<at::Tensor>& params, AdamW& optimizer,
                         std::optional<GradScaler>& scaler, double clip_norm,
                         const std::function<void()>& after_backward) {
  if (scaler) {
    scaler->scale(loss).backward();
    if (after_backward) after_backward();  // the scaled gradients: the same scale on every rank
    if (clip_norm > 0) {
      scaler->unscale_(params);  // clip the true gradients, not the scaled ones
      clip_grad_norm_(params, clip_norm);
    }
    scaler->step(optimizer);
    scaler->update();
  } else {
    loss.backward();
    if (after_backward) after_backward();
    if (clip_norm > 0) clip_grad_norm_(params, clip_norm);
    optimizer.step();
  }
}

}  // namespace mlspeed::train
