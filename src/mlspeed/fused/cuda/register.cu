// fused/decode_kernels.h's CUDA kernels, registered at start-up: checks, outputs and workspaces as
// LibTorch tensors, the launchers of this folder on the current stream. The only allocations are
// at::empty's, which the CUDA caching allocator serves from a graph's private pool while one is
// recorded: the decode step stays capturable. Linked as quant/cuda/register.cu is (CMakeLists.txt
// names mlspeed_fused_cuda_register to the linker).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/decode_fault.h"
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
                                   fused_gpu_dtype(x), fused_view(out), fused_stream(x)));
  return out;
}

quant::QuantizedInput fused_rotary_attention_quantize(const at::Tensor& qkv, int64_t heads, int64_t kv_heads,
                                                      const at::Tensor& cos, const at::Tensor& sin,
                                                      const at::Tensor& position, const at::Tensor& keys,
                                                      const at::Tensor& values, const at::Tensor& tickets) {
  TORCH_CHECK(keys.dim() == 4 && keys.sizes() == values.sizes() && keys.size(1) == kv_heads && qkv.dim() == 2 &&
                  keys.size(0) == qkv.size(0) && heads % kv_heads == 0 &&
                  qkv.size(1) == (heads + 2 * kv_heads) * keys.size(3),
              "[fused] qkv ", qkv.sizes(), " for ", heads, " heads and a cache layer of ", keys.sizes());
  const int64_t batch = qkv.size(0), head_dim = keys.size(3), capacity = keys.size(2);
  TORCH_CHECK(decode_attention_supports(head_dim), "[fused] attention takes head_dim 64, 128 or 256, got ", head_dim);
  TORCH_CHECK(cos.dim() == 2 && cos.size(1) == head_dim && sin.sizes() == cos.sizes(), "[fused] rotary tables ",
              cos.sizes(), " for head_dim ", head_dim);
  TORCH_CHECK(position.is_cuda() && position.scalar_type() == at::kLong && position.numel() == 1,
              "[fused] the position must be one int64 on the device");
  TORCH_CHECK(tickets.device() == qkv.device() && tickets.scalar_type() == at::kInt && tickets.is_contiguous() &&
                  tickets.numel() >= batch * heads,
              "[fused] attention needs ", batch * heads, " int32 counters on ", qkv.device());
  fused_check(qkv, qkv, "qkv");
  fused_check(keys, qkv, "keys");
  fused_check(values, qkv, "values");
  fused_check(cos, qkv, "cos");
  fused_check(sin, qkv, "sin");
  for (const at::Tensor* t : {&qkv, &keys, &values, &cos, &sin})  // read and written 16 bytes at a time
    TORCH_CHECK(reinterpret_cast<uintptr_t>(t->data_ptr()) % 16 == 0, "[fused] attention needs 16-byte aligned "
                "qkv, cache and rotary tables");
  const c10::cuda::CUDAGuard device(qkv.device());
  const at::Tensor workspace = at::empty({decode_attention_workspace_floats(batch, heads, head_dim, capacity)},
                                         qkv.options().dtype(at::kFloat));
  quant::QuantizedInput out = fused_quantized_output(qkv, batch, heads * head_dim);
  const DecodeAttentionArgs args{qkv.data_ptr(), cos.data_ptr(),    sin.data_ptr(), cos.size(0),
                                 keys.data_ptr(), values.data_ptr(), batch,          heads,
                                 kv_heads,        head_dim,          capacity,       position.data_ptr<int64_t>(),
                                 fused_gpu_dtype(qkv),
                                 decode_fault() == DecodeFault::scores_unscaled,
                                 decode_fault() == DecodeFault::new_key_unrotated};
  C10_CUDA_CHECK(rotary_attention_quantize(args, workspace.data_ptr<float>(),
                                           reinterpret_cast<unsigned*>(tickets.data_ptr<int32_t>()), fused_view(out),
                                           fused_stream(qkv)));
  return out;
}

quant::QuantizedInput fused_silu_mul_quantize(const at::Tensor& gate_up) {
  TORCH_CHECK(gate_up.dim() == 2 && gate_up.size(1) % 64 == 0, "[fused] gate_up must be (B, 2 ffn) with ffn a ",
              "multiple of 32, got ", gate_up.sizes());
  fused_check(gate_up, gate_up, "gate_up");
  const c10::cuda::CUDAGuard device(gate_up.device());
  const int64_t ffn = gate_up.size(1) / 2;
  quant::QuantizedInput out = fused_quantized_output(gate_up, gate_up.size(0), ffn);
  C10_CUDA_CHECK(silu_mul_quantize(gate_up.data_ptr(), gate_up.size(0), ffn, fused_gpu_dtype(gate_up),
                                   fused_view(out), fused_stream(gate_up)));
  return out;
}

}  // namespace
}  // namespace mlspeed::fused::gpu

extern "C" void mlspeed_fused_cuda_register() {
  using namespace mlspeed::fused;
  register_decode_kernels({&gpu::fused_rms_norm_quantize, &gpu::fused_rotary_attention_quantize,
                           &gpu::fused_silu_mul_quantize, &gpu::decode_attention_supports});
}

namespace {
[[maybe_unused]] const bool fused_registered_at_start = (mlspeed_fused_cuda_register(), true);
}  // namespace
