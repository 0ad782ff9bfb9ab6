// The fused CUDA kernels (fused/decode_kernels.h, cross_entropy.h, residual_layer_norm.h,
// group_norm.h, batch_norm_kernels.h), registered at start-up: checks, outputs and workspaces as
// LibTorch tensors, the launchers of this folder on the current stream. The only allocations are
// at::empty's, which the CUDA caching allocator serves from a graph's private pool while one is
// recorded: the decode step stays capturable. Linked as quant/cuda/register.cu is (CMakeLists.txt
// names mlspeed_fused_cuda_register to the linker).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "mlspeed/fused/batch_norm_kernels.h"
#include "mlspeed/fused/cross_entropy.h"
#include "mlspeed/fused/group_norm.h"
#include "mlspeed/fused/residual_layer_norm.h"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/kernel_fault.h"
#include "mlspeed/fused/decode_kernels.h"

extern "C" void mlspeed_fused_cuda_register();

namespace mlspeed::fused::gpu {
namespace {

GpuDtype fused_gpu_dtype(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return GpuDtype::f32;
    case at::kHalf: return GpuDtype::f16;
    case at::kBFloat16: return GpuDtype::bf16;
    default: TORCH_CHECK(false, "[fused] activations in ", t.scalar_type(), " are not supported");
  }
  return GpuDtype::f32;
}

void fused_check(const at::Tensor& t, const at::Tensor& like, const char* what) {
  TORCH_CHECK(t.is_cuda() && t.device() == like.device() && t.scalar_type() == like.scalar_type() &&
                  t.is_contiguous(),
              "[fused] ", what, " must be contiguous ", like.scalar_type(), " on ", like.device(), ", got ",
              t.scalar_type(), " on ", t.device());
}

cudaStream_t fused_stream(const at::Tensor& like) {
  return at::cuda::getCurrentCUDAStream(like.device().index()).stream();
}

quant::QuantizedInput fused_quantized_output(const at::Tensor& like, int64_t rows, int64_t cols) {
  return {at::empty({quant::quantized_input_bytes(rows, cols)}, like.options().dtype(at::kByte)), rows, cols};
}

quant::gpu::GemvInput fused_view(const quant::QuantizedInput& out) {
  return quant::gpu::gemv_input_view(out.bytes.data_ptr(), out.rows, out.cols);
}

quant::QuantizedInput fused_rms_norm_quantize(const at::Tensor& x, const at::Tensor& weight, double eps) {
  TORCH_CHECK(x.dim() == 2 && weight.dim() == 1 && weight.size(0) == x.size(1), "[fused] rms_norm of ", x.sizes(),
              " with a weight of ", weight.sizes());
  fused_check(x, x, "x");
  fused_check(weight, x, "the norm's weight");
  for (const at::Tensor* t : {&x, &weight})  // read 16 bytes at a time
    TORCH_CHECK(reinterpret_cast<uintptr_t>(t->data_ptr()) % 16 == 0, "[fused] rms_norm needs 16-byte aligned tensors");
  const c10::cuda::CUDAGuard device(x.device());
  quant::QuantizedInput out = fused_quantized_output(x, x.size(0), x.size(1));
  C10_CUDA_CHECK(rms_norm_quantize(x.data_ptr(), weight.data_ptr(), x.size(0), x.size(1), static_cast<float>(eps),
                                   fused_gpu_dtype(x), fused_view(out), fused_stream(x),
                                   kernel_fault() == KernelFault::norm_gain_offset));
  return out;
}

// One layer's attention of a decode step, after the checks of its arguments: `out` chosen by the
// caller (a quantised input or activations), written on the current stream.
void fused_launch_attention(const at::Tensor& qkv, const at::Tensor& qkv_bias, int64_t heads, int64_t kv_heads,
                            const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& position,
                            const at::Tensor& keys, const at::Tensor& values, const at::Tensor& tickets,
                            FusedOut out) {
  const int64_t batch = qkv.size(0), head_dim = keys.size(3), capacity = keys.size(2);
  const at::Tensor workspace = at::empty({decode_attention_workspace_floats(batch, heads, head_dim, capacity)},
                                         qkv.options().dtype(at::kFloat));
  const auto pointer = [](const at::Tensor& t) -> const void* { return t.defined() ? t.data_ptr() : nullptr; };
  const DecodeAttentionArgs args{qkv.data_ptr(),
                                 pointer(qkv_bias),
                                 pointer(cos),
                                 pointer(sin),
                                 cos.defined() ? cos.size(0) : 0,
                                 keys.data_ptr(),
                                 values.data_ptr(),
                                 batch,
                                 heads,
                                 kv_heads,
                                 head_dim,
                                 capacity,
                                 position.data_ptr<int64_t>(),
                                 fused_gpu_dtype(qkv),
                                 kernel_fault() == KernelFault::scores_unscaled,
                                 kernel_fault() == KernelFault::new_key_unrotated};
  C10_CUDA_CHECK(decode_attention(args, workspace.data_ptr<float>(),
                                  reinterpret_cast<unsigned*>(tickets.data_ptr<int32_t>()), out, fused_stream(qkv)));
}

// Undefined cos and sin: no rotation; an undefined bias: none.
void fused_check_attention(const at::Tensor& qkv, const at::Tensor& qkv_bias, int64_t heads, int64_t kv_heads,
                           const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& position,
                           const at::Tensor& keys, const at::Tensor& values, const at::Tensor& tickets) {
  TORCH_CHECK(keys.dim() == 4 && keys.sizes() == values.sizes() && keys.size(1) == kv_heads && qkv.dim() == 2 &&
                  keys.size(0) == qkv.size(0) && heads % kv_heads == 0 &&
                  qkv.size(1) == (heads + 2 * kv_heads) * keys.size(3),
              "[fused] qkv ", qkv.sizes(), " for ", heads, " heads and a cache layer of ", keys.sizes());
  const int64_t batch = qkv.size(0), head_dim = keys.size(3);
  TORCH_CHECK(decode_attention_supports(head_dim), "[fused] attention takes head_dim 64, 128 or 256, got ", head_dim);
  TORCH_CHECK(cos.defined() == sin.defined(), "[fused] rotary tables: cos and sin, or neither");
  TORCH_CHECK(!cos.defined() || (cos.dim() == 2 && cos.size(1) == head_dim && sin.sizes() == cos.sizes()),
              "[fused] rotary tables ", cos.sizes(), " for head_dim ", head_dim);
  TORCH_CHECK(!qkv_bias.defined() || (qkv_bias.dim() == 1 && qkv_bias.size(0) == qkv.size(1)), "[fused] a qkv bias ",
              qkv_bias.sizes(), " for qkv ", qkv.sizes());
  TORCH_CHECK(position.is_cuda() && position.scalar_type() == at::kLong && position.numel() == 1,
              "[fused] the position must be one int64 on the device");
  TORCH_CHECK(tickets.device() == qkv.device() && tickets.scalar_type() == at::kInt && tickets.is_contiguous() &&
                  tickets.numel() >= batch * heads,
              "[fused] attention needs ", batch * heads, " int32 counters on ", qkv.device());
  fused_check(qkv, qkv, "qkv");
  fused_check(keys, qkv, "keys");
  fused_check(values, qkv, "values");
  for (const at::Tensor* t : {&cos, &sin, &qkv_bias})
    if (t->defined()) fused_check(*t, qkv, "a rotary table or bias");
  for (const at::Tensor* t : {&qkv, &keys, &values, &cos, &sin, &qkv_bias})  // read and written 16 bytes at a time
    TORCH_CHECK(!t->defined() || reinterpret_cast<uintptr_t>(t->data_ptr()) % 16 == 0, "[fused] attention needs "
                "16-byte aligned qkv, cache, rotary tables and bias");
}

quant::QuantizedInput fused_rotary_attention_quantize(const at::Tensor& qkv, int64_t heads, int64_t kv_heads,
                                                      const at::Tensor& cos, const at::Tensor& sin,
                                                      const at::Tensor& position, const at::Tensor& keys,
                                                      const at::Tensor& values, const at::Tensor& tickets) {
  TORCH_CHECK(cos.defined(), "[fused] the quantised attention is Llama's: it needs rotary tables");
  fused_check_attention(qkv, {}, heads, kv_heads, cos, sin, position, keys, values, tickets);
  const c10::cuda::CUDAGuard device(qkv.device());
  quant::QuantizedInput out = fused_quantized_output(qkv, qkv.size(0), heads * keys.size(3));
  fused_launch_attention(qkv, {}, heads, kv_heads, cos, sin, position, keys, values, tickets, {fused_view(out)});
  return out;
}

at::Tensor fused_decode_attention(const at::Tensor& qkv, const at::Tensor& qkv_bias, int64_t heads,
                                  int64_t kv_heads, const at::Tensor& cos, const at::Tensor& sin,
                                  const at::Tensor& position, const at::Tensor& keys, const at::Tensor& values,
                                  const at::Tensor& tickets) {
  fused_check_attention(qkv, qkv_bias, heads, kv_heads, cos, sin, position, keys, values, tickets);
  const c10::cuda::CUDAGuard device(qkv.device());
  at::Tensor out = at::empty({qkv.size(0), heads * keys.size(3)}, qkv.options());
  fused_launch_attention(qkv, qkv_bias, heads, kv_heads, cos, sin, position, keys, values, tickets,
                         {{}, out.data_ptr()});
  return out;
}

void fused_check_gate_up(const at::Tensor& gate_up) {
  TORCH_CHECK(gate_up.dim() == 2 && gate_up.size(1) % 64 == 0, "[fused] gate_up must be (B, 2 ffn) with ffn a ",
              "multiple of 32, got ", gate_up.sizes());
  fused_check(gate_up, gate_up, "gate_up");
}

quant::QuantizedInput fused_silu_mul_quantize(const at::Tensor& gate_up) {
  fused_check_gate_up(gate_up);
  const c10::cuda::CUDAGuard device(gate_up.device());
  const int64_t ffn = gate_up.size(1) / 2;
  quant::QuantizedInput out = fused_quantized_output(gate_up, gate_up.size(0), ffn);
  C10_CUDA_CHECK(silu_mul(gate_up.data_ptr(), gate_up.size(0), ffn, fused_gpu_dtype(gate_up), {fused_view(out)},
                          fused_stream(gate_up), kernel_fault() == KernelFault::gate_up_swapped));
  return out;
}

at::Tensor fused_silu_mul(const at::Tensor& gate_up) {
  fused_check_gate_up(gate_up);
  const c10::cuda::CUDAGuard device(gate_up.device());
  const int64_t ffn = gate_up.size(1) / 2;
  at::Tensor out = at::empty({gate_up.size(0), ffn}, gate_up.options());
  C10_CUDA_CHECK(silu_mul(gate_up.data_ptr(), gate_up.size(0), ffn, fused_gpu_dtype(gate_up), {{}, out.data_ptr()},
                          fused_stream(gate_up), kernel_fault() == KernelFault::gate_up_swapped));
  return out;
}

void fused_check_aligned(const at::Tensor& t, const at::Tensor& like, const char* what) {
  fused_check(t, like, what);
  TORCH_CHECK(reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0, "[fused] ", what, " must be 16-byte aligned");
}

DecodeNorm fused_decode_norm(ProductSteps::Norm norm) {
  switch (norm) {
    case ProductSteps::Norm::layer: return DecodeNorm::layer;
    case ProductSteps::Norm::rms: return DecodeNorm::rms;
    case ProductSteps::Norm::none: break;
  }
  return DecodeNorm::none;
}

bool fused_product_supports(int64_t k, int64_t n, bool norm, bool in_by_out) {
  return decode_product_supports(k, n, norm ? DecodeNorm::rms : DecodeNorm::none, in_by_out);
}

void fused_check_product(const at::Tensor& x, const at::Tensor& weight, bool in_by_out, const ProductSteps& s) {
  TORCH_CHECK(x.dim() == 2 && weight.dim() == 2, "[fused] a decode product of x ", x.sizes(), " and a weight ",
              weight.sizes());
  const int64_t k = x.size(1), n = in_by_out ? weight.size(1) : weight.size(0);
  TORCH_CHECK((in_by_out ? weight.size(0) : weight.size(1)) == k &&
                  decode_product_supports(k, n, fused_decode_norm(s.norm), in_by_out),
              "[fused] a decode product of x ", x.sizes(), " and a weight ", weight.sizes(), in_by_out ? " (in, out)" :
              " (out, in)", ": inputs (and the outputs of an (in, out) weight) a multiple of 8, at most 8192 "
              "inputs under a norm");
  fused_check_aligned(x, x, "x");
  fused_check_aligned(weight, x, "the weight");
  if (s.norm != ProductSteps::Norm::none) {
    TORCH_CHECK(s.norm_weight.numel() == k && (!s.norm_bias.defined() || s.norm_bias.numel() == k),
                "[fused] the norm's parameters must hold ", k, " values");
    fused_check_aligned(s.norm_weight, x, "the norm's weight");
    if (s.norm_bias.defined()) fused_check_aligned(s.norm_bias, x, "the norm's bias");
  }
  if (s.bias.defined()) {
    TORCH_CHECK(s.bias.numel() == n, "[fused] the product's bias must hold ", n, " values");
    fused_check(s.bias, x, "the product's bias");
  }
  if (s.residual.defined()) {
    TORCH_CHECK(s.residual.dim() == 2 && s.residual.size(0) == x.size(0) && s.residual.size(1) == n,
                "[fused] the residual must be (", x.size(0), ", ", n, "), got ", s.residual.sizes());
    fused_check(s.residual, x, "the residual");
    TORCH_CHECK(!s.residual.is_same(x), "[fused] a product cannot add into its own input");
  }
}

at::Tensor fused_decode_product(const at::Tensor& x, const at::Tensor& weight, bool in_by_out,
                                const ProductSteps& s) {
  fused_check_product(x, weight, in_by_out, s);
  const c10::cuda::CUDAGuard device(x.device());
  const int64_t n = in_by_out ? weight.size(1) : weight.size(0);
  at::Tensor out = s.residual.defined() ? s.residual : at::empty({x.size(0), n}, x.options());
  const auto pointer = [](const at::Tensor& t) -> const void* { return t.defined() ? t.data_ptr() : nullptr; };
  // The verifier's faults: a projection added into the stream without its bias (GPT-2's), a bias
  // taken twice before GELU, Gemma's 1 + gain on a Llama's RMSNorm.
  const KernelFault fault = kernel_fault();
  const bool drops_bias = s.residual.defined() && fault == KernelFault::residual_bias_dropped;
  DecodeProductArgs a{x.data_ptr(), weight.data_ptr(), in_by_out, x.size(0), x.size(1), n,
                      fused_decode_norm(s.norm), pointer(s.norm_weight), pointer(s.norm_bias),
                      static_cast<float>(s.eps), drops_bias ? nullptr : pointer(s.bias), s.gelu,
                      s.residual.defined() ? out.data_ptr() : nullptr, out.data_ptr(), fused_gpu_dtype(x)};
  if (s.norm == ProductSteps::Norm::rms && fault == KernelFault::norm_gain_offset) a.gain_offset = 1.0f;
  if (s.gelu && fault == KernelFault::gelu_bias_doubled) a.bias_times = 2.0f;
  C10_CUDA_CHECK(decode_product(a, fused_stream(x)));
  return out;
}

std::pair<at::Tensor, at::Tensor> fused_cross_entropy_forward(const at::Tensor& logits, const at::Tensor& targets,
                                                              int64_t ignore_index) {
  TORCH_CHECK(fused_cross_entropy_takes(logits, targets), "[fused] cross_entropy of logits ", logits.sizes(), " ",
              logits.scalar_type(), " and targets ", targets.sizes(), " ", targets.scalar_type());
  const c10::cuda::CUDAGuard device(logits.device());
  at::Tensor row_loss = at::empty({logits.size(0)}, logits.options().dtype(at::kFloat));
  at::Tensor logsumexp = at::empty_like(row_loss);
  C10_CUDA_CHECK(cross_entropy_forward(logits.data_ptr(), targets.data_ptr<int64_t>(), logits.size(0),
                                       logits.size(1), ignore_index, fused_gpu_dtype(logits),
                                       row_loss.data_ptr<float>(), logsumexp.data_ptr<float>(), fused_stream(logits)));
  return {row_loss, logsumexp};
}

at::Tensor fused_cross_entropy_backward(const at::Tensor& logits, const at::Tensor& targets,
                                        const at::Tensor& logsumexp, const at::Tensor& scale, int64_t ignore_index) {
  TORCH_CHECK(fused_cross_entropy_takes(logits, targets) && logsumexp.scalar_type() == at::kFloat &&
                  logsumexp.numel() == logits.size(0) && scale.scalar_type() == at::kFloat && scale.numel() == 1 &&
                  scale.device() == logits.device(),
              "[fused] cross_entropy backward of logits ", logits.sizes());
  const c10::cuda::CUDAGuard device(logits.device());
  at::Tensor grad = at::empty_like(logits);
  C10_CUDA_CHECK(cross_entropy_backward(logits.data_ptr(), targets.data_ptr<int64_t>(),
                                        logsumexp.contiguous().data_ptr<float>(), scale.data_ptr<float>(),
                                        logits.size(0), logits.size(1), ignore_index, fused_gpu_dtype(logits),
                                        grad.data_ptr(), fused_stream(logits),
                                        kernel_fault() == KernelFault::cross_entropy_backward_next_class));
  return grad;
}

ResidualLayerNormArgs fused_residual_args(const at::Tensor& x, const at::Tensor& y_like, const at::Tensor& gamma,
                                          const at::Tensor& beta, double eps) {
  return {x.data_ptr<float>(), nullptr, gamma.data_ptr<float>(), beta.defined() ? beta.data_ptr<float>() : nullptr,
          x.size(0), x.size(1), static_cast<float>(eps), fused_gpu_dtype(y_like), nullptr, nullptr, nullptr, nullptr};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> fused_residual_layer_norm_forward(
    const at::Tensor& x, const at::Tensor& y, const at::Tensor& gamma, const at::Tensor& beta, double eps) {
  TORCH_CHECK(residual_layer_norm_takes(x, y, gamma, beta) && x.dim() == 2, "[fused] residual_layer_norm of x ",
              x.sizes(), " ", x.scalar_type(), " and y ", y.sizes(), " ", y.scalar_type());
  for (const at::Tensor* t : {&x, &y, &gamma, &beta})  // beta may be undefined: no bias
    if (t->defined()) fused_check_aligned(*t, *t, "residual_layer_norm's input");
  const c10::cuda::CUDAGuard device(x.device());
  at::Tensor sum = at::empty_like(x), out = at::empty_like(y);
  at::Tensor mean = at::empty({x.size(0)}, x.options()), rstd = at::empty_like(mean);
  ResidualLayerNormArgs a = fused_residual_args(x, y, gamma, beta, eps);
  a.y = y.data_ptr();
  a.sum = sum.data_ptr<float>();
  a.out = out.data_ptr();
  a.mean = mean.data_ptr<float>();
  a.rstd = rstd.data_ptr<float>();
  C10_CUDA_CHECK(residual_layer_norm_forward(a, fused_stream(x)));
  return {sum, out, mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> fused_residual_layer_norm_backward(
    const at::Tensor& sum, const at::Tensor& mean, const at::Tensor& rstd, const at::Tensor& gamma,
    const at::Tensor& d_out, const at::Tensor& d_sum) {
  TORCH_CHECK(sum.dim() == 2 && d_out.sizes() == sum.sizes() && (!d_sum.defined() || d_sum.sizes() == sum.sizes()) &&
                  mean.numel() == sum.size(0) && rstd.numel() == sum.size(0) && gamma.numel() == sum.size(1),
              "[fused] residual_layer_norm backward of ", sum.sizes());
  fused_check_aligned(sum, sum, "the sum");
  fused_check_aligned(d_out, d_out, "the gradient of out");
  if (d_sum.defined()) fused_check_aligned(d_sum, sum, "the gradient of the sum");
  const c10::cuda::CUDAGuard device(sum.device());
  at::Tensor d_x = at::empty_like(sum), d_y = at::empty_like(d_out);
  at::Tensor d_gamma = at::empty_like(gamma), d_beta = at::empty_like(gamma);
  const at::Tensor partial =
      at::empty({2 * residual_layer_norm_parts(sum.size(0)) * sum.size(1)}, sum.options());
  ResidualLayerNormArgs a = fused_residual_args(sum, d_out, gamma, {}, 0);
  a.sum = sum.data_ptr<float>();
  a.mean = mean.data_ptr<float>();
  a.rstd = rstd.data_ptr<float>();
  a.fault_odd_rows = kernel_fault() == KernelFault::norm_backward_zero_rows;
  C10_CUDA_CHECK(residual_layer_norm_backward(a, d_out.data_ptr(), d_sum.defined() ? d_sum.data_ptr<float>() : nullptr,
                                              d_x.data_ptr<float>(), d_y.data_ptr(), partial.data_ptr<float>(),
                                              d_gamma.data_ptr<float>(), d_beta.data_ptr<float>(), fused_stream(sum)));
  return {d_x, d_y, d_gamma, d_beta};
}

at::Tensor fused_group_norm(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                            const at::Tensor& bias, double eps, bool silu) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  TORCH_CHECK(x.is_cuda() && x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast) &&
                  group_norm_supports(n, c, groups),
              "[fused] group_norm of ", x.sizes(), " in ", groups, " groups (channels-last, C / groups even, C at "
              "most 2048)");
  for (const at::Tensor* t : {&weight, &bias, &add})
    if (t->defined()) fused_check(*t, x, "group_norm's weight, bias or add");
  TORCH_CHECK(weight.numel() == c && bias.numel() == c && (!add.defined() || add.numel() == n * c),
              "[fused] group_norm's weight ", weight.sizes(), ", bias ", bias.sizes(), " for ", c, " channels");
  const int64_t alignment = x.scalar_type() == at::kFloat ? 8 : 4;
  for (const at::Tensor* t : {&x, &weight, &bias, &add})  // read two values at a time
    TORCH_CHECK(!t->defined() || reinterpret_cast<uintptr_t>(t->data_ptr()) % alignment == 0,
                "[fused] group_norm needs ", alignment, "-byte aligned tensors");
  const c10::cuda::CUDAGuard device(x.device());
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
  const at::Tensor workspace =
      at::empty({group_norm_workspace_floats(n, hw, c, groups)}, x.options().dtype(at::kFloat));
  GroupNormArgs args{x.data_ptr(), add.defined() ? add.data_ptr() : nullptr, weight.data_ptr(), bias.data_ptr(),
                     n, hw, c, groups, static_cast<float>(eps), silu, fused_gpu_dtype(x), out.data_ptr()};
  args.fault_silu_zeros = kernel_fault() == KernelFault::silu_non_contiguous_zeros;
  C10_CUDA_CHECK(group_norm_nhwc(args, workspace.data_ptr<float>(), fused_stream(x)));
  return out;
}

void fused_check_channels_last(const at::Tensor& t, const at::Tensor& x, const char* what) {
  TORCH_CHECK(t.is_cuda() && t.device() == x.device() && t.scalar_type() == x.scalar_type() && t.sizes() == x.sizes() &&
                  t.is_contiguous(at::MemoryFormat::ChannelsLast),
              "[fused] batch_norm's ", what, " must be channels-last ", x.scalar_type(), " of ", x.sizes());
  const int64_t alignment = x.scalar_type() == at::kFloat ? 8 : 4;  // read two values at a time
  TORCH_CHECK(reinterpret_cast<uintptr_t>(t.data_ptr()) % alignment == 0, "[fused] batch_norm's ", what, " must be ",
              alignment, "-byte aligned");
}

void fused_check_channel_floats(const at::Tensor& t, int64_t c, const at::Tensor& x) {
  TORCH_CHECK(t.is_cuda() && t.device() == x.device() && t.scalar_type() == at::kFloat && t.numel() == c &&
                  t.is_contiguous(),
              "[fused] batch_norm's parameters and statistics must be ", c, " contiguous floats on ", x.device());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> fused_batch_norm_forward(
    const at::Tensor& x, const at::Tensor& residual, const at::Tensor& weight, const at::Tensor& bias,
    const at::Tensor& running_mean, const at::Tensor& running_var, double momentum, double eps, bool relu) {
  const int64_t c = x.size(1), rows = x.numel() / c;
  TORCH_CHECK(x.dim() == 4 && batch_norm_supports(c) && rows > 1, "[fused] batch_norm of ", x.sizes());
  fused_check_channels_last(x, x, "input");
  if (residual.defined()) fused_check_channels_last(residual, x, "residual");
  for (const at::Tensor* t : {&weight, &bias, &running_mean, &running_var}) fused_check_channel_floats(*t, c, x);
  const c10::cuda::CUDAGuard device(x.device());
  at::Tensor out = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
  at::Tensor mean = at::empty({c}, weight.options()), invstd = at::empty({c}, weight.options());
  const at::Tensor workspace = at::empty({batch_norm_workspace_floats(rows, c)}, weight.options());
  const BatchNormArgs args{x.data_ptr(), residual.defined() ? residual.data_ptr() : nullptr,
                           weight.data_ptr<float>(), bias.data_ptr<float>(), rows, c, static_cast<float>(eps),
                           static_cast<float>(momentum), relu, fused_gpu_dtype(x), running_mean.data_ptr<float>(),
                           running_var.data_ptr<float>(), mean.data_ptr<float>(), invstd.data_ptr<float>(),
                           out.data_ptr()};
  C10_CUDA_CHECK(batch_norm_forward(args, workspace.data_ptr<float>(), fused_stream(x)));
  return {out, mean, invstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> fused_batch_norm_backward(
    const at::Tensor& x, const at::Tensor& out, const at::Tensor& mean, const at::Tensor& invstd,
    const at::Tensor& weight, const at::Tensor& d_out, bool relu, bool residual) {
  const int64_t c = x.size(1), rows = x.numel() / c;
  TORCH_CHECK(x.dim() == 4 && batch_norm_supports(c) && rows > 1, "[fused] batch_norm backward of ", x.sizes());
  fused_check_channels_last(x, x, "input");
  fused_check_channels_last(out, x, "output");
  fused_check_channels_last(d_out, x, "output's gradient");
  for (const at::Tensor* t : {&mean, &invstd, &weight}) fused_check_channel_floats(*t, c, x);
  const c10::cuda::CUDAGuard device(x.device());
  const auto like_x = x.options().memory_format(at::MemoryFormat::ChannelsLast);
  at::Tensor d_x = at::empty(x.sizes(), like_x), d_residual = residual ? at::empty(x.sizes(), like_x) : at::Tensor();
  at::Tensor d_weight = at::empty({c}, weight.options()), d_bias = at::empty({c}, weight.options());
  const at::Tensor workspace = at::empty({batch_norm_workspace_floats(rows, c)}, weight.options());
  BatchNormBackwardArgs args{x.data_ptr(), out.data_ptr(), d_out.data_ptr(), weight.data_ptr<float>(),
                             mean.data_ptr<float>(), invstd.data_ptr<float>(), rows, c, relu,
                             fused_gpu_dtype(x), d_x.data_ptr(),
                             residual ? d_residual.data_ptr() : nullptr, d_weight.data_ptr<float>(),
                             d_bias.data_ptr<float>()};
  args.fault_constant_statistics = kernel_fault() == KernelFault::batch_norm_backward_constant_statistics;
  C10_CUDA_CHECK(batch_norm_backward(args, workspace.data_ptr<float>(), fused_stream(x)));
  return {d_x, d_residual, d_weight, d_bias};
}

}  // namespace
}  // namespace mlspeed::fused::gpu

extern "C" void mlspeed_fused_cuda_register() {
  using namespace mlspeed::fused;
  DecodeKernels k;
  k.rms_norm_quantize = &gpu::fused_rms_norm_quantize;
  k.rotary_attention_quantize = &gpu::fused_rotary_attention_quantize;
  k.silu_mul_quantize = &gpu::fused_silu_mul_quantize;
  k.decode_attention = &gpu::fused_decode_attention;
  k.silu_mul = &gpu::fused_silu_mul;
  k.product = &gpu::fused_decode_product;
  k.product_supports = &gpu::fused_product_supports;
  k.supports_head_dim = &gpu::decode_attention_supports;
  register_decode_kernels(k);
  register_cross_entropy_kernels({&gpu::fused_cross_entropy_forward, &gpu::fused_cross_entropy_backward});
  register_residual_layer_norm_kernels(
      {&gpu::fused_residual_layer_norm_forward, &gpu::fused_residual_layer_norm_backward});
  register_group_norm_kernels({&gpu::fused_group_norm});
  register_batch_norm_kernels({&gpu::fused_batch_norm_forward, &gpu::fused_batch_norm_backward});
}

namespace {
[[maybe_unused]] const bool fused_registered_at_start = (mlspeed_fused_cuda_register(), true);
}  // namespace
