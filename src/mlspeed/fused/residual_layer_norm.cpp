#include "mlspeed/fused/residual_layer_norm.h"

#include <torch/csrc/autograd/custom_function.h>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/kernel_fault.h"

namespace mlspeed::fused {
namespace {

ResidualLayerNormKernels& residual_layer_norm_registered() {
  static ResidualLayerNormKernels kernels;
  return kernels;
}

// Saves the sum (the stream after the add, which the next layer's add keeps alive anyway), the
// rows' mean and 1/std, and gamma: backward reads the sum once more instead of the two inputs.
class ResidualLayerNorm : public torch::autograd::Function<ResidualLayerNorm> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                                                const at::Tensor& y, const at::Tensor& gamma, const at::Tensor& beta,
                                                double eps) {
    const bool has_beta = beta.numel() > 0;  // empty: no bias
    auto [sum, out, mean, rstd] =
        residual_layer_norm_registered().forward(x, y, gamma, has_beta ? beta : at::Tensor(), eps);
    ctx->save_for_backward({sum, mean, rstd, gamma});
    ctx->saved_data["has_beta"] = has_beta;
    ctx->saved_data["out_dtype"] = static_cast<int64_t>(y.scalar_type());
    // The verifier's fault is set on the forward's thread; backward may run on autograd's.
    ctx->saved_data["fault"] = static_cast<int64_t>(kernel_fault());
    return {sum, out};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = ctx->get_saved_variables();
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["out_dtype"].toInt());
    // An output nothing used has no gradient: out's is then zeros; sum's stays undefined.
    const at::Tensor d_out = grads[1].defined() ? grads[1].to(dtype).contiguous()
                                                : at::zeros(saved[0].sizes(), saved[0].options().dtype(dtype));
    const KernelFaultScope fault(static_cast<KernelFault>(ctx->saved_data["fault"].toInt()));
    auto [d_x, d_y, d_gamma, d_beta] = residual_layer_norm_registered().backward(
        saved[0], saved[1], saved[2], saved[3], d_out, grads[0].defined() ? grads[0].contiguous() : at::Tensor());
    return {d_x, d_y, d_gamma, ctx->saved_data["has_beta"].toBool() ? d_beta : at::Tensor(), at::Tensor()};
  }
};

}  // namespace

ResidualLayerNormKernels register_residual_layer_norm_kernels(const ResidualLayerNormKernels& kernels) {
  const ResidualLayerNormKernels before = residual_layer_norm_registered();
  residual_layer_norm_registered() = kernels;
  return before;
}

bool residual_layer_norm_takes(const at::Tensor& x, const at::Tensor& y, const at::Tensor& gamma,
                               const at::Tensor& beta) {
  const ResidualLayerNormKernels& k = residual_layer_norm_registered();
  const at::ScalarType dtype = y.scalar_type();
  return k.forward && own_kernels() && x.device().type() == k.device_type && x.dim() >= 2 &&
         x.scalar_type() == at::kFloat && y.sizes() == x.sizes() && y.device() == x.device() &&
         (dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16) && gamma.defined() &&
         gamma.dim() == 1 && gamma.size(0) == x.size(-1) && gamma.scalar_type() == at::kFloat &&
         (!beta.defined() || (beta.sizes() == gamma.sizes() && beta.scalar_type() == at::kFloat)) &&
         x.size(-1) % 8 == 0;
}

std::pair<at::Tensor, at::Tensor> residual_layer_norm(const at::Tensor& x, const at::Tensor& y,
                                                      const at::Tensor& gamma, const at::Tensor& beta, double eps) {
  const int64_t cols = x.size(-1);
  const torch::autograd::variable_list out = ResidualLayerNorm::apply(
      x.reshape({-1, cols}).contiguous(), y.reshape({-1, cols}).contiguous(), gamma.contiguous(),
      beta.defined() ? beta.contiguous() : at::empty({0}, gamma.options()), eps);  // autograd takes no undefined
  return {out[0].view(x.sizes()), out[1].view(x.sizes())};
}

std::optional<at::Tensor> pre_norm_blocks(const at::Tensor& x, const PreNormBlocks& blocks) {
  if (blocks.count == 0) return std::nullopt;
  const NormParameters first = blocks.ln_1(0);
  if (!residual_layer_norm_takes(x, x, first.weight, first.bias)) return std::nullopt;
  at::Tensor stream = x;
  // Each residual add and the norm after it: (stream, normed) = (x + y, LayerNorm(x + y)).
  const auto add_and_norm = [&](const at::Tensor& y, const NormParameters& norm, size_t block) {
    TORCH_CHECK(residual_layer_norm_takes(stream, y, norm.weight, norm.bias),
                "[fused] the residual LayerNorm cannot take block ", block, "'s ", y.scalar_type(), " branch");
    auto [sum, normed] = residual_layer_norm(stream, y, norm.weight, norm.bias, norm.eps);
    stream = sum;
    return normed;
  };
  at::Tensor normed = at::layer_norm(stream, {first.weight.size(0)}, first.weight, first.bias, first.eps);
  for (size_t i = 0; i < blocks.count; ++i) {
    normed = add_and_norm(blocks.attn(i, normed), blocks.ln_2(i), i);
    normed = add_and_norm(blocks.mlp(i, normed), i + 1 < blocks.count ? blocks.ln_1(i + 1) : blocks.ln_f, i);
  }
  return normed;
}

}  // namespace mlspeed::fused
