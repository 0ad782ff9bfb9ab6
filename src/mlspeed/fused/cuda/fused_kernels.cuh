// The fused CUDA kernels of a Llama decode step, as plain launchers (device pointers, sizes, a
// stream): no LibTorch here, so that only register.cu compiles LibTorch's headers with nvcc.
// Built with the quantised-weight kernels (quant/cuda) when LibTorch has CUDA and nvcc is found;
// register.cu hands them to fused/decode_kernels.h.
//
// One token per sequence (B rows). Activations are float32, float16 or bfloat16 (quant's
// GpuDtype), contiguous; every intermediate value is computed in float32 and rounded to the
// dtype where the unfused LibTorch ops round it, so that the fused step computes what the
// unfused one does up to the order of a few float32 sums. The outputs that feed a quantised
// product are written as its quantised input (quant/cuda/gemv_input.cuh), in place of the
// activation itself.
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

// out = quantised (x * rsqrt(mean(x^2) + eps) * weight, rounded to the dtype): x (B, cols),
// weight (cols), both in `dtype`; cols a multiple of 32.
cudaError_t rms_norm_quantize(const void* x, const void* weight, int64_t batch, int64_t cols, float eps,
                              GpuDtype dtype, GemvInput out, cudaStream_t stream);

// out = quantised (silu(gate) * up), each op rounded to the dtype: gate_up (B, 2 ffn) holds gate
// then up; ffn a multiple of 32.
cudaError_t silu_mul_quantize(const void* gate_up, int64_t batch, int64_t ffn, GpuDtype dtype, GemvInput out,
                              cudaStream_t stream);

// From qkv (B, (heads + 2 kv_heads) head_dim): q and k rotated by row *position of the rotary
// tables cos and signed_sin ((positions, head_dim): x cos + roll(x, head_dim / 2) signed_sin, as
// models/llama.cpp's apply_rotary), q into q_out (B, heads, head_dim), k and v into row
// *position of keys and values (B, kv_heads, capacity, head_dim). head_dim even, <= 1024.
cudaError_t rotary_cache_write(const void* qkv, int64_t batch, int64_t heads, int64_t kv_heads, int64_t head_dim,
                               const void* cos, const void* signed_sin, int64_t table_positions,
                               const int64_t* position, void* keys, void* values, int64_t capacity, void* q_out,
                               GpuDtype dtype, cudaStream_t stream);

// Attention of one query per head, q (B, heads, head_dim), over positions 0..*position of keys and
// values (B, kv_heads, capacity, head_dim; query head h reads kv head h / (heads / kv_heads)),
// softmax(q k / sqrt(head_dim)) v in float32, rounded to the dtype and quantised: out (B,
// heads * head_dim). Split over the positions in chunks (flash-decoding), then combined;
// head_dim 64, 128 or 256 (decode_attention_supports).
bool decode_attention_supports(int64_t head_dim);
// The float32 workspace the launcher needs: partial maxima, sums and outputs of every chunk.
int64_t decode_attention_workspace_floats(int64_t batch, int64_t heads, int64_t head_dim, int64_t capacity);
cudaError_t decode_attention_quantize(const void* q, const void* keys, const void* values, int64_t batch,
                                      int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t capacity,
                                      const int64_t* position, float* workspace, GpuDtype dtype, GemvInput out,
                                      cudaStream_t stream);

}  // namespace mlspeed::fused::gpu
