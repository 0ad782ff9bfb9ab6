#include "mlspeed/fused/batch_norm.h"

#include <torch/csrc/autograd/custom_function.h>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/kernel_fault.h"

namespace mlspeed::fused {
namespace {

BatchNormKernels& batch_norm_registered() {
  static BatchNormKernels kernels;
  return kernels;
}

bool batch_norm_parameter(const at::Tensor& t, const at::Tensor& x) {
  return t.defined() && t.dim() == 1 && t.size(0) == x.size(1) && t.scalar_type() == at::kFloat &&
         t.device() == x.device() && t.is_contiguous();
}

// The running statistics are updated in forward, as the module's forward updates them; an empty
// residual stands for none (autograd takes no undefined input).
class FusedBatchNorm : public torch::autograd::Function<FusedBatchNorm> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& residual,
                            const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& running_mean,
                            const at::Tensor& running_var, double momentum, double eps, bool relu) {
    const bool has_residual = residual.numel() > 0;
    auto [out, mean, invstd] = batch_norm_registered().forward(x, has_residual ? residual : at::Tensor(), weight, bias,
                                                               running_mean, running_var, momentum, eps, relu);
    ctx->save_for_backward({x, out, mean, invstd, weight});
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["residual"] = has_residual;
    ctx->saved_data["fault"] = static_cast<int64_t>(kernel_fault());  // backward may run on another thread
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list s = ctx->get_saved_variables();
    const bool has_residual = ctx->saved_data["residual"].toBool();
    const at::Tensor d_out = grads[0].contiguous(s[0].suggest_memory_format());
    const KernelFaultScope fault(static_cast<KernelFault>(ctx->saved_data["fault"].toInt()));
    auto [d_x, d_residual, d_weight, d_bias] = batch_norm_registered().backward(
        s[0], s[1], s[2], s[3], s[4], d_out, ctx->saved_data["relu"].toBool(), has_residual);
    return {d_x, has_residual ? d_residual : at::Tensor(), d_weight, d_bias, at::Tensor(), at::Tensor(),
            at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// In place after the norm, as the ResNet's module code has always done it (no extra activation kept).
at::Tensor batch_norm_unfused(const at::Tensor& x, const at::Tensor& residual, torch::nn::BatchNorm2dImpl& norm,
                              bool relu) {
  at::Tensor out = norm.forward(x);
  if (residual.defined()) out += residual;
  return relu ? out.relu_() : out;
}

}  // namespace

BatchNormKernels register_batch_norm_kernels(const BatchNormKernels& kernels) {
  const BatchNormKernels before = batch_norm_registered();
  batch_norm_registered() = kernels;
  return before;
}

bool batch_norm_takes(const at::Tensor& x, const at::Tensor& residual, const torch::nn::BatchNorm2dImpl& norm) {
  const BatchNormKernels& k = batch_norm_registered();
  if (!k.forward || !own_kernels() || x.device().type() != k.device_type || !norm.is_training() || x.dim() != 4 ||
      !x.is_contiguous(at::MemoryFormat::ChannelsLast) || !norm.options.affine() ||
      !norm.options.track_running_stats() || !norm.options.momentum().has_value())
    return false;
  const at::ScalarType dtype = x.scalar_type();
  return (dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16) && x.size(1) % 2 == 0 &&
         x.size(1) <= 2048 && x.numel() / x.size(1) > 1 && batch_norm_parameter(norm.weight, x) &&
         batch_norm_parameter(norm.bias, x) && batch_norm_parameter(norm.running_mean, x) &&
         batch_norm_parameter(norm.running_var, x) &&
         (!residual.defined() || (residual.sizes() == x.sizes() && residual.scalar_type() == dtype &&
                                  residual.is_contiguous(at::MemoryFormat::ChannelsLast)));
}

at::Tensor batch_norm(const at::Tensor& x, const at::Tensor& residual, torch::nn::BatchNorm2dImpl& norm, bool relu) {
  if (!batch_norm_takes(x, residual, norm)) return batch_norm_unfused(x, residual, norm, relu);
  {
    const at::NoGradGuard no_grad;  // the module's forward counts the batches it normalised
    norm.num_batches_tracked.add_(1);
  }
  const at::Tensor no_residual = at::empty({0}, x.options());
  return FusedBatchNorm::apply(x, residual.defined() ? residual : no_residual, norm.weight, norm.bias,
                               norm.running_mean, norm.running_var, *norm.options.momentum(), norm.options.eps(),
                               relu);
}

}  // namespace mlspeed::fused
