// The fused kernels' contracts (fused/decode_kernels.h, cross_entropy.h, residual_layer_norm.h,
// group_norm.h, batch_norm_kernels.h) written with LibTorch's ops, registered for the CPU while a
// ReferenceFusedKernels lives: CPU tests run the steps that string the kernels together (Llama's
// and GPT-2's fused decode steps, GPT-2's and nanoGPT's fused training forward and loss, the
// UNet's norms, ResNet's training step) on this machine and check them against the unfused ops.
// What the CUDA kernels compute is the gpu label's to check (fused/*_gpu_test.cpp); this checks
// what is done with them.
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <utility>

#include "mlspeed/fused/batch_norm_kernels.h"
#include "mlspeed/fused/cross_entropy.h"
#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/fused/group_norm.h"
#include "mlspeed/fused/kernel_fault.h"
#include "mlspeed/fused/residual_layer_norm.h"

namespace mlspeed::testing {

// qkv (B, (heads + 2 kv_heads) d) plus the bias, q and k rotated by the tables' row at `position`
// when there are tables, k and v written into the cache at `position`, then softmax(q k / sqrt(d))
// v over positions 0..position: (B, heads d).
inline at::Tensor reference_decode_attention(const at::Tensor& qkv, const at::Tensor& bias, int64_t heads,
                                             int64_t kv_heads, const at::Tensor& cos, const at::Tensor& sin,
                                             const at::Tensor& position, const at::Tensor& keys,
                                             const at::Tensor& values, const at::Tensor& /*tickets*/) {
  const int64_t batch = qkv.size(0), d = keys.size(3), p = position.item<int64_t>();
  const at::Tensor x = (bias.defined() ? qkv + bias : qkv).view({batch, heads + 2 * kv_heads, d});
  const auto rotate = [&](const at::Tensor& t) {
    if (!cos.defined()) return t;
    return t * cos[p] + at::roll(t, d / 2, -1) * sin[p];
  };
  const at::Tensor q = rotate(x.narrow(1, 0, heads)), k = rotate(x.narrow(1, heads, kv_heads));
  keys.select(2, p).copy_(k);
  values.select(2, p).copy_(x.narrow(1, heads + kv_heads, kv_heads));
  const int64_t group = heads / kv_heads;
  const at::Tensor k_all = keys.narrow(2, 0, p + 1).repeat_interleave(group, 1);
  const at::Tensor v_all = values.narrow(2, 0, p + 1).repeat_interleave(group, 1);
  const at::Tensor scores = at::matmul(q.unsqueeze(2), k_all.transpose(2, 3)) / std::sqrt(static_cast<double>(d));
  return at::matmul(at::softmax(scores, -1), v_all).reshape({batch, heads * d});
}

inline at::Tensor reference_silu_mul(const at::Tensor& gate_up) {
  const int64_t ffn = gate_up.size(1) / 2;
  return at::silu(gate_up.narrow(1, 0, ffn)) * gate_up.narrow(1, ffn, ffn);
}

// norm(x) W (+ bias) (then GELU), added into the residual when there is one.
inline at::Tensor reference_product(const at::Tensor& x, const at::Tensor& weight, bool in_by_out,
                                    const fused::ProductSteps& s) {
  at::Tensor in = x;
  if (s.norm == fused::ProductSteps::Norm::layer) {
    in = at::layer_norm(x, {x.size(1)}, s.norm_weight, s.norm_bias, s.eps);
  } else if (s.norm == fused::ProductSteps::Norm::rms) {
    const at::Tensor f = x.to(at::kFloat);
    in = (f * at::rsqrt(f.pow(2).mean(-1, true) + s.eps) * s.norm_weight).to(x.scalar_type());
  }
  at::Tensor y = at::mm(in, in_by_out ? weight : weight.t());
  if (s.bias.defined()) y = y + s.bias;
  if (s.gelu) y = at::gelu(y, "tanh");
  return s.residual.defined() ? s.residual.add_(y) : y;
}

// The targets the kernels read, an ignored row's as 0; backward's under the verifier's fault
// (fused/kernel_fault.h) the next class.
inline at::Tensor reference_safe_targets(const at::Tensor& targets, int64_t ignore_index, int64_t vocab,
                                         bool backward) {
  const at::Tensor counted = targets.ne(ignore_index);
  const at::Tensor safe = at::where(counted, targets, at::zeros_like(targets));
  const bool fault = backward && fused::kernel_fault() == fused::KernelFault::cross_entropy_backward_next_class;
  return fault ? (safe + 1).remainder(vocab) : safe;
}

inline std::pair<at::Tensor, at::Tensor> reference_cross_entropy_forward(const at::Tensor& logits,
                                                                         const at::Tensor& targets,
                                                                         int64_t ignore_index) {
  const at::Tensor x = logits.to(at::kFloat), counted = targets.ne(ignore_index);
  const at::Tensor safe = reference_safe_targets(targets, ignore_index, logits.size(1), false);
  const at::Tensor lse = at::logsumexp(x, 1);
  return {(lse - x.gather(1, safe.unsqueeze(1)).squeeze(1)) * counted, lse};
}

inline at::Tensor reference_cross_entropy_backward(const at::Tensor& logits, const at::Tensor& targets,
                                                   const at::Tensor& logsumexp, const at::Tensor& scale,
                                                   int64_t ignore_index) {
  const at::Tensor counted = targets.ne(ignore_index);
  const at::Tensor safe = reference_safe_targets(targets, ignore_index, logits.size(1), true);
  const at::Tensor p = at::exp(logits.to(at::kFloat) - logsumexp.unsqueeze(1));
  const at::Tensor one_hot = at::one_hot(safe, logits.size(1)).to(at::kFloat);
  return ((p - one_hot) * scale * counted.unsqueeze(1)).to(logits.scalar_type());
}

inline std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> reference_residual_layer_norm_forward(
    const at::Tensor& x, const at::Tensor& y, const at::Tensor& gamma, const at::Tensor& beta, double eps) {
  const at::Tensor sum = x + y.to(at::kFloat);
  const at::Tensor mean = sum.mean(-1, true), rstd = at::rsqrt((sum - mean).pow(2).mean(-1, true) + eps);
  const at::Tensor normed = (sum - mean) * rstd * gamma;
  const at::Tensor out = (beta.defined() ? normed + beta : normed).to(y.scalar_type());
  return {sum, out, mean.squeeze(-1), rstd.squeeze(-1)};
}

inline std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> reference_residual_layer_norm_backward(
    const at::Tensor& sum, const at::Tensor& mean, const at::Tensor& rstd, const at::Tensor& gamma,
    const at::Tensor& d_out, const at::Tensor& d_sum) {
  const at::Tensor r = rstd.unsqueeze(-1), xhat = (sum - mean.unsqueeze(-1)) * r, dout = d_out.to(at::kFloat);
  const at::Tensor g = dout * gamma;
  at::Tensor d_x = r * (g - g.mean(-1, true) - xhat * (g * xhat).mean(-1, true));
  if (fused::kernel_fault() == fused::KernelFault::norm_backward_zero_rows)  // as the CUDA kernel reads it
    d_x = d_x * (at::arange(d_x.size(0), d_x.options()).remainder(2) == 0).unsqueeze(-1);
  if (d_sum.defined()) d_x = d_x + d_sum;
  // Two tensors, as the kernel writes: one gradient tensor for two inputs could become both
  // leaves' .grad.
  return {d_x, d_x.to(d_out.scalar_type(), /*non_blocking=*/false, /*copy=*/true), (dout * xhat).sum(0), dout.sum(0)};
}

// GroupNorm of x + add, then SiLU, written channels-last as the kernel writes it.
inline at::Tensor reference_group_norm(const at::Tensor& x, const at::Tensor& add, int64_t groups,
                                       const at::Tensor& weight, const at::Tensor& bias, double eps, bool silu) {
  const at::Tensor input = add.defined() ? x + add.unsqueeze(-1).unsqueeze(-1) : x;
  const at::Tensor normed = at::group_norm(input, groups, weight, bias, eps);
  if (silu && fused::kernel_fault() == fused::KernelFault::silu_non_contiguous_zeros)  // as the CUDA kernel reads it
    return at::zeros_like(normed).contiguous(at::MemoryFormat::ChannelsLast);
  return (silu ? at::silu(normed.contiguous()) : normed).contiguous(at::MemoryFormat::ChannelsLast);
}

// Training's batch norm over (N, H, W) of each channel, + residual, + ReLU; the running
// statistics updated in place, the variance unbiased, as LibTorch keeps them.
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> reference_batch_norm_forward(
    const at::Tensor& x, const at::Tensor& residual, const at::Tensor& weight, const at::Tensor& bias,
    const at::Tensor& running_mean, const at::Tensor& running_var, double momentum, double eps, bool relu) {
  const at::Tensor xf = x.to(at::kFloat);
  const double count = static_cast<double>(x.numel() / x.size(1));
  const at::Tensor mean = xf.mean({0, 2, 3}), variance = (xf - mean.view({1, -1, 1, 1})).pow(2).mean({0, 2, 3});
  const at::Tensor invstd = at::rsqrt(variance + eps);
  const auto channel = [](const at::Tensor& t) { return t.view({1, -1, 1, 1}); };
  at::Tensor out = ((xf - channel(mean)) * channel(invstd * weight) + channel(bias)).to(x.scalar_type());
  if (residual.defined()) out = out + residual;
  if (relu) out = out.relu();
  running_mean.mul_(1 - momentum).add_(mean * momentum);
  running_var.mul_(1 - momentum).add_(variance * (count / (count - 1)) * momentum);
  return {out.contiguous(at::MemoryFormat::ChannelsLast), mean, invstd};
}

inline std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> reference_batch_norm_backward(
    const at::Tensor& x, const at::Tensor& out, const at::Tensor& mean, const at::Tensor& invstd,
    const at::Tensor& weight, const at::Tensor& d_out, bool relu, bool residual) {
  const auto channel = [](const at::Tensor& t) { return t.view({1, -1, 1, 1}); };
  const at::Tensor g = relu ? d_out * out.gt(0) : d_out;
  const at::Tensor gf = g.to(at::kFloat), xhat = (x.to(at::kFloat) - channel(mean)) * channel(invstd);
  const double count = static_cast<double>(x.numel() / x.size(1));
  const at::Tensor d_bias = gf.sum({0, 2, 3}), d_weight = (gf * xhat).sum({0, 2, 3});
  const bool constant = fused::kernel_fault() == fused::KernelFault::batch_norm_backward_constant_statistics;
  const at::Tensor d_x = constant ? channel(weight * invstd) * gf  // the verifier's fault, as the CUDA kernel reads it
                                  : channel(weight * invstd) * (gf - channel(d_bias) / count -
                                                                xhat * channel(d_weight) / count);
  const auto last = at::MemoryFormat::ChannelsLast;
  return {d_x.to(x.scalar_type()).contiguous(last), residual ? g.contiguous(last) : at::Tensor(), d_weight, d_bias};
}

// Registers the references for the CPU while it lives; the kernels registered before come back
// after it.
class ReferenceFusedKernels {
 public:
  ReferenceFusedKernels() {
    fused::DecodeKernels k;
    k.decode_attention = &reference_decode_attention;
    k.silu_mul = &reference_silu_mul;
    k.product = &reference_product;
    k.product_supports = [](int64_t, int64_t, bool, bool) { return true; };
    k.supports_head_dim = [](int64_t head_dim) { return head_dim % 2 == 0; };
    k.device_type = c10::DeviceType::CPU;
    decode_before_ = fused::register_decode_kernels(k);
    fused::CrossEntropyKernels c;
    c.forward = &reference_cross_entropy_forward;
    c.backward = &reference_cross_entropy_backward;
    c.device_type = c10::DeviceType::CPU;
    cross_entropy_before_ = fused::register_cross_entropy_kernels(c);
    fused::ResidualLayerNormKernels n;
    n.forward = &reference_residual_layer_norm_forward;
    n.backward = &reference_residual_layer_norm_backward;
    n.device_type = c10::DeviceType::CPU;
    residual_layer_norm_before_ = fused::register_residual_layer_norm_kernels(n);
    group_norm_before_ = fused::register_group_norm_kernels({&reference_group_norm, c10::DeviceType::CPU});
    batch_norm_before_ = fused::register_batch_norm_kernels(
        {&reference_batch_norm_forward, &reference_batch_norm_backward, c10::DeviceType::CPU});
  }
  ~ReferenceFusedKernels() {
    fused::register_decode_kernels(decode_before_);
    fused::register_cross_entropy_kernels(cross_entropy_before_);
    fused::register_residual_layer_norm_kernels(residual_layer_norm_before_);
    fused::register_group_norm_kernels(group_norm_before_);
    fused::register_batch_norm_kernels(batch_norm_before_);
  }
  ReferenceFusedKernels(const ReferenceFusedKernels&) = delete;
  ReferenceFusedKernels& operator=(const ReferenceFusedKernels&) = delete;

 private:
  fused::DecodeKernels decode_before_;
  fused::CrossEntropyKernels cross_entropy_before_;
  fused::ResidualLayerNormKernels residual_layer_norm_before_;
  fused::GroupNormKernels group_norm_before_;
  fused::BatchNormKernels batch_norm_before_;
};

}  // namespace mlspeed::testing
