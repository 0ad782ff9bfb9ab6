// The fused CUDA kernels of a decode step (Llama's, GPT-2's), as plain launchers (device pointers, sizes, a
// stream): no LibTorch here, so that only register.cu compiles LibTorch's headers with nvcc.
// Built with the quantised-weight kernels (quant/cuda) when LibTorch has CUDA and nvcc is found;
// register.cu hands them to fused/decode_kernels.h.
//
// One token per sequence (B rows). Activations are float32, float16 or bfloat16 (quant's
// GpuDtype), contiguous; every intermediate value is computed in float32 and rounded to the
// dtype where the unfused LibTorch ops round it, so that the fused step computes what the
// unfused one does up to the order of a few float32 sums. The outputs that feed a quantised
// product are written as its quantised input (quant/cuda/gemv_input.cuh), in place of the
// activation itself; the others as activations for cuBLAS's products.
//
// The cache position is read on the device (an int64): one decode step is the same kernels at
// every position, which a CUDA graph replays. A position outside the cache stops the kernel with
// a trap (as LibTorch's index assertion does), never a write out of bounds.
//
// Every launcher enqueues its kernels and returns cudaGetLastError(): no synchronisation, no
// allocation (the caller passes the workspace), so a CUDA graph can capture them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "mlspeed/quant/cuda/quant_kernels.cuh"

namespace mlspeed::fused::gpu {

using quant::gpu::GemvInput;
using quant::gpu::GpuDtype;

// Where a kernel writes the activation it ends with, (B, cols): as the next product's quantised
// input, or, when `plain` is set, as values of the dtype, for a product of 16-bit weights
// (cuBLAS's: models/llama_fused_decode.cpp's dense step).
struct FusedOut {
  GemvInput quantised{};
  void* plain = nullptr;
};

// out = quantised (x * rsqrt(mean(x^2) + eps) * weight, rounded to the dtype): x (B, cols),
// weight (cols), both in `dtype`; cols a multiple of 32. gain_offset: the verifier's fault, Gemma's
// convention on a model that means its gain itself: weight + 1 in its place.
cudaError_t rms_norm_quantize(const void* x, const void* weight, int64_t batch, int64_t cols, float eps,
                              GpuDtype dtype, GemvInput out, cudaStream_t stream, bool gain_offset = false);

// out = silu(gate) * up, each op rounded to the dtype: gate_up (B, 2 ffn) holds gate then up; ffn
// a multiple of 32. gate_up_swapped: the verifier's fault, silu(up) * gate.
cudaError_t silu_mul(const void* gate_up, int64_t batch, int64_t ffn, GpuDtype dtype, FusedOut out,
                     cudaStream_t stream, bool gate_up_swapped = false);

// One layer's attention of a decode step: from qkv (B, (heads + 2 kv_heads) head_dim) plus
// qkv_bias ((heads + 2 kv_heads) head_dim; null: none), q and k rotated by row *position of the
// rotary tables cos and signed_sin ((table_positions, head_dim): x cos + roll(x, head_dim / 2)
// signed_sin, as models/llama.cpp's apply_rotary; null: no rotation, GPT-2), k and v written
// into row *position of keys and values (B, kv_heads, capacity, head_dim), then softmax(q k /
// sqrt(head_dim)) v over positions 0..*position (query head h reads kv head h / (heads /
// kv_heads)) in float32, rounded to the dtype: out (B, heads * head_dim). Split over the positions
// in chunks (flash-decoding); head_dim 64, 128 or 256.
struct DecodeAttentionArgs {
  const void* qkv;
  const void* qkv_bias;
  const void* cos;
  const void* signed_sin;
  int64_t table_positions;
  void* keys;
  void* values;
  int64_t batch, heads, kv_heads, head_dim, capacity;
  const int64_t* position;
  GpuDtype dtype;
  // The verifier's faults (fused/kernel_fault.h): the scores without their 1 / sqrt(head_dim); the
  // new key attended to and cached unrotated.
  bool scores_unscaled = false, new_key_unrotated = false;
};
bool decode_attention_supports(int64_t head_dim);
// The float32 workspace the launcher needs: partial maxima, sums and outputs of every chunk.
int64_t decode_attention_workspace_floats(int64_t batch, int64_t heads, int64_t head_dim, int64_t capacity);
// `tickets`: B * heads counters, zero before the launch and left at zero by it (the last block of
// a (sequence, head) is the one that draws ticket chunks - 1).
cudaError_t decode_attention(const DecodeAttentionArgs& args, float* workspace, unsigned* tickets, FusedOut out,
                             cudaStream_t stream);

// A decode step's product with a 16-bit (or float32) weight and the steps on either side of it
// (decode_product.cu): y = gelu?(norm(x) W + bias), W = weight^T for a weight (n, k) (nn.Linear's)
// or weight itself (k, n) when in_by_out (GPT-2's Conv1D); y added into residual in place when it
// is given, else written to out. norm over each row of x (B, k): none, LayerNorm (norm_weight,
// norm_bias or null, eps) or RMSNorm (norm_weight, eps), rounded to the dtype. All in `dtype`,
// contiguous, x and the weight 16-byte aligned; k a multiple of 8, and n too for (k, n).
enum class DecodeNorm { none, layer, rms };
struct DecodeProductArgs {
  const void* x;
  const void* weight;
  bool in_by_out;
  int64_t batch, k, n;
  DecodeNorm norm;
  const void* norm_weight;
  const void* norm_bias;
  float eps;
  const void* bias;
  bool gelu;
  void* residual;
  void* out;
  GpuDtype dtype;
  // The verifier's faults (fused/kernel_fault.h): 1 added to the RMSNorm's gain (norm_gain_offset);
  // the bias taken twice before GELU (gelu_bias_doubled, bias_times 2).
  float gain_offset = 0.0f, bias_times = 1.0f;
};
// Whether decode_product takes a product of these sizes (a norm needs k at most 8192).
bool decode_product_supports(int64_t k, int64_t n, DecodeNorm norm, bool in_by_out);
cudaError_t decode_product(const DecodeProductArgs& args, cudaStream_t stream);

// Cross-entropy of targets (rows, int64) under logits (rows, vocab) in `dtype` (vocab a multiple of
// 8, 16-byte aligned): forward writes each row's loss, logsumexp - logit[target] (0 where the
// target is ignore_index), and its log-sum-exp, in float32; backward writes the logits' gradient in
// `dtype`, (softmax - one-hot) * *scale (0 for an ignored row), *scale on the device (the loss's
// gradient over the count of rows). A target outside 0..vocab - 1 (other than ignore_index) stops
// the kernel with a trap, as LibTorch's assertion does. fault_next_class: the verifier's fault
// (fused/kernel_fault.h), backward's gradient taken for each target's next class.
cudaError_t cross_entropy_forward(const void* logits, const int64_t* targets, int64_t rows, int64_t vocab,
                                  int64_t ignore_index, GpuDtype dtype, float* row_loss, float* logsumexp,
                                  cudaStream_t stream);
cudaError_t cross_entropy_backward(const void* logits, const int64_t* targets, const float* logsumexp,
                                   const float* scale, int64_t rows, int64_t vocab, int64_t ignore_index,
                                   GpuDtype dtype, void* grad, cudaStream_t stream, bool fault_next_class = false);

// Training's residual add + LayerNorm (residual_layer_norm.cu): x, the float32 residual stream,
// plus y, a branch in `dtype`, into sum (float32); out = LayerNorm(sum) gamma + beta in `dtype`
// (gamma, beta float32); each row's mean and 1/std kept for backward. (rows, cols), contiguous,
// 16-byte aligned; cols a multiple of 8, at most 32768.
struct ResidualLayerNormArgs {
  const float* x;
  const void* y;
  const float* gamma;
  const float* beta;  // null: no bias
  int64_t rows, cols;
  float eps;
  GpuDtype dtype;
  float* sum;
  void* out;
  float* mean;
  float* rstd;
  bool fault_odd_rows = false;  // the verifier's fault (fused/kernel_fault.h): backward drops odd rows' norm gradient
};
cudaError_t residual_layer_norm_forward(const ResidualLayerNormArgs& args, cudaStream_t stream);
// The floats of workspace backward needs: two partial sums of parts(rows) x cols.
int64_t residual_layer_norm_parts(int64_t rows);
// From args' sum, mean, rstd and gamma and the gradients of out (d_out, `dtype`) and of sum
// (d_sum, float32; null when sum is not used after the norm): d_x (float32) and d_y (`dtype`), the
// same values, and d_gamma, d_beta (float32, cols); `partial` holds 2 parts(rows) cols floats.
cudaError_t residual_layer_norm_backward(const ResidualLayerNormArgs& args, const void* d_out, const float* d_sum,
                                         float* d_x, void* d_y, float* partial, float* d_gamma, float* d_beta,
                                         cudaStream_t stream);

// Inference's GroupNorm on channels-last activations (group_norm.cu): x (n, hw, c) in `dtype`,
// plus add (n, c) (null: none), normalised over each sample's groups of c / groups channels, times
// weight plus bias (c, `dtype`), then SiLU when `silu` is set, into out (n, hw, c). Every pointer
// 4-byte aligned (8 for float32).
struct GroupNormArgs {
  const void* x;
  const void* add;
  const void* weight;
  const void* bias;
  int64_t n, hw, c, groups;
  float eps;
  bool silu;
  GpuDtype dtype;
  void* out;
  bool fault_silu_zeros = false;  // the verifier's fault (fused/kernel_fault.h): SiLU's outputs zeros
};
// c / groups even, c at most 2048, n at most 65535.
bool group_norm_supports(int64_t n, int64_t c, int64_t groups);
// The float32 workspace of group_norm_nhwc: the partial sums of each run of rows and each group's
// statistics.
int64_t group_norm_workspace_floats(int64_t n, int64_t hw, int64_t c, int64_t groups);
cudaError_t group_norm_nhwc(const GroupNormArgs& args, float* workspace, cudaStream_t stream);

// Training's BatchNorm (+ residual) (+ ReLU) on channels-last activations (batch_norm.cu): x, the
// residual (null: none), out: (rows, c) in `dtype`, rows = N H W; weight and bias (c) float32;
// the batch's mean and 1/std written to save_mean and save_invstd, the running statistics
// (null: none) updated with `momentum`. Every activation pointer 4-byte aligned (8 for float32).
struct BatchNormArgs {
  const void* x;
  const void* residual;
  const float* weight;
  const float* bias;
  int64_t rows, c;
  float eps, momentum;
  bool relu;
  GpuDtype dtype;
  float* running_mean;
  float* running_var;
  float* save_mean;
  float* save_invstd;
  void* out;
};
// From forward's x and out (the ReLU's mask), its saved mean and 1/std, and the gradient of out:
// d_x, d_residual (null: none) in `dtype`, d_weight and d_bias (c) float32.
struct BatchNormBackwardArgs {
  const void* x;
  const void* out;
  const void* d_out;
  const float* weight;
  const float* save_mean;
  const float* save_invstd;
  int64_t rows, c;
  bool relu;
  GpuDtype dtype;
  void* d_x;
  void* d_residual;
  float* d_weight;
  float* d_bias;
  bool fault_constant_statistics = false;  // the verifier's fault (fused/kernel_fault.h): dx = weight / std dy
};
bool batch_norm_supports(int64_t c);  // c even, at most 2048
// The float32 workspace of either launcher: two partial sums of every run of rows and channel.
int64_t batch_norm_workspace_floats(int64_t rows, int64_t c);
cudaError_t batch_norm_forward(const BatchNormArgs& args, float* workspace, cudaStream_t stream);
cudaError_t batch_norm_backward(const BatchNormBackwardArgs& args, float* workspace, cudaStream_t stream);

}  // namespace mlspeed::fused::gpu
