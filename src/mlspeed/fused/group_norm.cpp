#include "mlspeed/fused/group_norm.h"

#include <ATen/core/grad_mode.h>

#include "mlspeed/core/kernel_set.h"

namespace mlspeed::fused {
namespace {

GroupNormKernels& group_norm_registered() {
  static GroupNormKernels kernels;
  return kernels;
}

bool group_norm_parameter(const at::Tensor& t, const at::Tensor& x, at::IntArrayRef sizes) {
  return t.defined() && t.sizes() == sizes && t.scalar_type() == x.scalar_type() && t.device() == x.device();
}

}  // namespace

GroupNormKernels register_group_norm_kernels(const GroupNormKernels& kernels) {
  const GroupNormKernels before = group_norm_registered();
  group_norm_registered() = kernels;
  return before;
}

bool group_norm_takes(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                      const at::Tensor& bias) {
  const GroupNormKernels& k = group_norm_registered();
  if (!k.forward || !own_kernels() || x.device().type() != k.device_type || x.dim() != 4 ||
      !x.is_contiguous(at::MemoryFormat::ChannelsLast))
    return false;
  const at::ScalarType dtype = x.scalar_type();
  const int64_t channels = x.size(1);
  const bool any_requires_grad = x.requires_grad() || weight.requires_grad() || bias.requires_grad() ||
                                 (add.defined() && add.requires_grad());
  const bool needs_grad = at::GradMode::is_enabled() && any_requires_grad;
  return !needs_grad && (dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16) && groups > 0 &&
         channels % groups == 0 && (channels / groups) % 2 == 0 && channels <= 2048 &&
         group_norm_parameter(weight, x, {channels}) && group_norm_parameter(bias, x, {channels}) &&
         (!add.defined() || (group_norm_parameter(add, x, {x.size(0), channels}) && add.is_contiguous()));
}

at::Tensor group_norm(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                      const at::Tensor& bias, double eps, bool silu) {
  if (group_norm_takes(x, add, groups, weight, bias))
    return group_norm_registered().forward(x, add, groups, weight.contiguous(), bias.contiguous(), eps, silu);
  const at::Tensor input = add.defined() ? x + add.unsqueeze(-1).unsqueeze(-1) : x;
  const at::Tensor normed = at::group_norm(input, groups, weight, bias, eps);
  return silu ? at::silu(normed) : normed;
}

}  // namespace mlspeed::fused
