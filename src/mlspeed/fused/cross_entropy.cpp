#include "mlspeed/fused/cross_entropy.h"

#include <torch/csrc/autograd/custom_function.h>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/kernel_fault.h"

namespace mlspeed::fused {
namespace {

constexpr int64_t kIgnoreIndex = -100;  // at::cross_entropy_loss's default

CrossEntropyKernels& cross_entropy_registered() {
  static CrossEntropyKernels kernels;
  return kernels;
}

// The loss as an autograd node: forward saves the logits (no copy: autograd keeps the tensor the
// head made), the targets, the rows' log-sum-exp and the count of counted rows, all on the device,
// so that a CUDA graph captures the step with no read back to the host.
class FusedCrossEntropy : public torch::autograd::Function<FusedCrossEntropy> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& targets) {
    const auto [row_loss, logsumexp] = cross_entropy_registered().forward(logits, targets, kIgnoreIndex);
    const at::Tensor count = targets.ne(kIgnoreIndex).sum().to(at::kFloat);
    ctx->save_for_backward({logits, targets, logsumexp, count});
    ctx->saved_data["fault"] = static_cast<int64_t>(kernel_fault());  // backward may run on another thread
    return row_loss.sum() / count;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor scale = (grads[0].to(at::kFloat) / saved[3]).reshape({1}).contiguous();
    const KernelFaultScope fault(static_cast<KernelFault>(ctx->saved_data["fault"].toInt()));
    return {cross_entropy_registered().backward(saved[0], saved[1], saved[2], scale, kIgnoreIndex), at::Tensor()};
  }
};

}  // namespace

CrossEntropyKernels register_cross_entropy_kernels(const CrossEntropyKernels& kernels) {
  const CrossEntropyKernels before = cross_entropy_registered();
  cross_entropy_registered() = kernels;
  return before;
}

bool fused_cross_entropy_takes(const at::Tensor& logits, const at::Tensor& targets) {
  const at::ScalarType dtype = logits.scalar_type();
  const CrossEntropyKernels& k = cross_entropy_registered();
  return k.forward && own_kernels() && logits.device().type() == k.device_type && logits.dim() == 2 &&
         logits.size(0) > 0 && logits.size(1) % 8 == 0 && logits.is_contiguous() &&
         reinterpret_cast<uintptr_t>(logits.data_ptr()) % 16 == 0 &&
         (dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16) && targets.dim() == 1 &&
         targets.size(0) == logits.size(0) && targets.scalar_type() == at::kLong &&
         targets.device() == logits.device();
}

at::Tensor cross_entropy(const at::Tensor& logits, const at::Tensor& targets) {
  if (!fused_cross_entropy_takes(logits, targets)) return at::cross_entropy_loss(logits, targets);
  return FusedCrossEntropy::apply(logits, targets.contiguous());
}

}  // namespace mlspeed::fused
