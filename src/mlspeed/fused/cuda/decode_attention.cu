// Attention of one new token over a key/value cache (flash-decoding), with the rotary embedding of
// q and k and the cache write of the new k and v: one kernel a layer where the unfused step runs
// a dozen. The positions 0..*position are split into chunks; each chunk's thread block computes a
// partial softmax-weighted sum with an online softmax, and the block that finishes a (sequence,
// head)'s chunks last combines them and writes the result as o_proj's quantised input (or as
// values of the dtype, for a product of 16-bit weights). Only the filled positions are read (the
// position is read on the device), where the unfused step's SDPA reads the whole capacity under a
// mask: at a depth of thousands of positions the cache is a third of the bytes a token reads. The rotary embedding and the combination were kernels of their own
// (three a layer): each kernel boundary of a decode step is a wait on the whole GPU.
//
// In a chunk's block of 4 warps, a group of head_dim / 8 lanes takes one key at a time, each lane
// 8 of its values (one 16-byte load of bfloat16/float16): q.k is reduced over the group with a few
// shuffles, and each lane keeps the running maximum, sum and 8 output values of its group. The
// groups are combined through shared memory at the end of the chunk.
#include <cuda_runtime.h>

#include <cfloat>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/fused/cuda/fused_out.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/gemv_input.cuh"
#include "mlspeed/quant/cuda/last_block.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_last_block;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load8;
using quant::gpu::cuq_round;
using quant::gpu::cuq_store8;
using quant::gpu::cuq_wait_for_predecessor;
using quant::gpu::kGemvInputRun;

constexpr int kAttentionWarps = 4;
constexpr int kValuesPerLane = 8;

// Positions a chunk takes for a cache of `capacity`: a multiple of 16 giving at most kMaxChunks
// chunks, so that even one sequence of 32 heads fills the GPU. A block's groups take a chunk's
// keys one after another, each waiting on its loads: short chunks keep a short context's
// attention from being a chain of such waits. Chunks of at least 64 positions (8 keys a group)
// took 10.8 us a layer of a 128-token Llama-2-7B generation on an H100; at least 16 made the whole
// Q4_0 tg128 4.6% faster (286.4 against 299.7 ms, results/2026-12-05-h100-gguf-record/).
constexpr int kMaxChunks = 16;
int64_t fused_chunk(int64_t capacity) {
  const int64_t per_chunk = (capacity + kMaxChunks - 1) / kMaxChunks;
  return (per_chunk + 15) / 16 * 16;
}

int64_t fused_chunks(int64_t capacity) { return (capacity + fused_chunk(capacity) - 1) / fused_chunk(capacity); }

// The 8 values at `slot` of one head of qkv (element `at`; the head's values start at element
// `bias_at` of the bias, null for none) plus the bias's, as the product with its bias rounds them;
// rotated when there are tables: x cos + roll(x, HD / 2) signed_sin, with c and s the slot's
// values of the position's row, the half-roll's partner values being those of lane
// lane ^ (G / 2) of the same group of G = HD / 8 lanes (every lane of the warp takes part).
// Rounded as models/llama.cpp's apply_rotary rounds (x cos to the dtype, then the sum), and to the
// dtype, as the unfused step stores q and k.
template <GpuDtype D, int HD>
__device__ __forceinline__ void fused_head8(const void* qkv, int64_t at, const void* bias, int64_t bias_at,
                                            bool rotate, const float (&c)[kValuesPerLane],
                                            const float (&s)[kValuesPerLane], int slot, float (&out)[kValuesPerLane]) {
  constexpr int G = HD / kValuesPerLane;
  float x[kValuesPerLane], b[kValuesPerLane] = {};
  cuq_load8<D>(qkv, at + slot, x);
  if (bias) cuq_load8<D>(bias, bias_at + slot, b);
#pragma unroll
  for (int i = 0; i < kValuesPerLane; ++i) {
    x[i] = bias ? cuq_round<D>(x[i] + b[i]) : x[i];
    const float rolled = __shfl_xor_sync(0xFFFFFFFFu, x[i], G / 2);
    out[i] = rotate ? cuq_round<D>(cuq_round<D>(x[i] * c[i]) + rolled * s[i]) : x[i];
  }
}

// The chunks of (sequence b, head h) combined, divided by the total sum, rounded to the dtype and
// written (fused_write_run), a warp a run of 32 values: run by the block that finished the pair's
// chunks last, reading the others' partials from L2 (__ldcg: they were written during this
// kernel). Every
// chunk's partials are loaded before any is used, in one round trip to L2: a loop that loaded
// a chunk's sum, then its maximum, then its values, one chunk after another, made the attention of
// a short context take 11 us on an H200, most of it waiting on those loads one by one.
template <GpuDtype D, int HD>
__device__ void fused_combine_chunks(int64_t bh, int64_t chunks, const float* partial_max,
                                     const float* partial_sum, const float* partial_out, FusedOut out) {
  for (int t = threadIdx.x; t < HD; t += blockDim.x) {  // HD a multiple of 32: whole warps
    float chunk_max[kMaxChunks], chunk_sum[kMaxChunks], chunk_out[kMaxChunks];
#pragma unroll
    for (int c = 0; c < kMaxChunks; ++c) {
      const int64_t at = bh * chunks + c;
      const bool filled = c < chunks;
      chunk_sum[c] = filled ? __ldcg(partial_sum + at) : 0.0f;  // 0: a chunk past the position
      chunk_max[c] = filled ? __ldcg(partial_max + at) : -FLT_MAX;
      chunk_out[c] = filled ? __ldcg(partial_out + at * HD + t) : 0.0f;
    }
    float top = -FLT_MAX;
#pragma unroll
    for (int c = 0; c < kMaxChunks; ++c)
      if (chunk_sum[c] > 0.0f) top = fmaxf(top, chunk_max[c]);
    float sum = 0.0f, value = 0.0f;
#pragma unroll
    for (int c = 0; c < kMaxChunks; ++c) {
      if (chunk_sum[c] <= 0.0f) continue;
      const float w = expf(chunk_max[c] - top);
      sum += chunk_sum[c] * w;
      value += chunk_out[c] * w;
    }
    const int64_t run = (bh * HD + t) / kGemvInputRun;  // row b's runs are heads * HD / 32 consecutive ones
    fused_write_run<D>(out, cuq_round<D>(value / sum), t & 31, run);
  }
}

// One block a (sequence, head, chunk of positions). The block's q, and the new token's k and v of
// its kv head, come straight from qkv, rotated in registers; the first chunk's block of the kv
// head's first query head writes them at position p of the cache, and every block takes them from
// registers for position p, so that no block reads a cache row that this kernel writes.
template <GpuDtype D, int HD>
__global__ void __launch_bounds__(kAttentionWarps * 32)
    fused_rotary_attention_kernel(const void* qkv, const void* qkv_bias, const void* cos, const void* signed_sin,
                                  int64_t table_positions,
                                  void* keys, void* values, int64_t heads, int64_t kv_heads, int64_t capacity,
                                  int64_t chunk, const int64_t* position, float* partial_max, float* partial_sum,
                                  float* partial_out, unsigned* tickets, FusedOut out, bool scores_unscaled,
                                  bool new_key_unrotated) {
  constexpr int G = HD / kValuesPerLane, kKeysPerWarp = 32 / G, kGroups = kAttentionWarps * kKeysPerWarp;
  __shared__ float group_max[kGroups], group_sum[kGroups], group_out[kGroups][HD];
  // Before the wait, what no kernel of this decode step writes (launch.cuh's exception): the
  // position, the rotary tables' row and the first key of the chunk (rows before the position
  // were written by earlier steps), on their way while the qkv product finishes.
  const int64_t p = *position;
  const bool rotate = cos != nullptr;
  if (p < 0 || p >= capacity || (rotate && p >= table_positions)) __trap();  // LibTorch's index assertion
  const int64_t bh = blockIdx.x, b = bh / heads, h = bh % heads, chunks = gridDim.y, c = blockIdx.y;
  const int64_t group_heads = heads / kv_heads, kv = h / group_heads;
  const int64_t begin = c * chunk, end = min(begin + chunk, p + 1);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int group = warp * kKeysPerWarp + lane / G, slot = (lane % G) * kValuesPerLane;
  const int64_t base = (b * kv_heads + kv) * capacity * HD;
  float table_cos[kValuesPerLane] = {}, table_sin[kValuesPerLane] = {};
  if (rotate) {
    cuq_load8<D>(cos, p * HD + slot, table_cos);
    cuq_load8<D>(signed_sin, p * HD + slot, table_sin);
  }
  // The loop is the same for the warp's lanes (the shuffles need them all): a group past the last
  // key of the chunk reduces zeros and keeps its state. The next keys' loads are issued before this
  // key's arithmetic, so that a load's latency is paid once a chunk rather than once a key.
  float k[kValuesPerLane] = {}, v[kValuesPerLane] = {};
  int64_t j = begin + warp * kKeysPerWarp + lane / G;
  if (j < end && j != p) {
    cuq_load8<D>(keys, base + j * HD + slot, k);
    cuq_load8<D>(values, base + j * HD + slot, v);
  }
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  const int64_t row = b * (heads + 2 * kv_heads) * HD;
  float qv[kValuesPerLane], new_k[kValuesPerLane], new_v[kValuesPerLane];
  fused_head8<D, HD>(qkv, row + h * HD, qkv_bias, h * HD, rotate, table_cos, table_sin, slot, qv);
  // new_key_unrotated: the verifier's fault (the same for the whole grid).
  fused_head8<D, HD>(qkv, row + (heads + kv) * HD, qkv_bias, (heads + kv) * HD, rotate && !new_key_unrotated,
                     table_cos, table_sin, slot, new_k);
  fused_head8<D, HD>(qkv, row + (heads + kv_heads + kv) * HD, qkv_bias, (heads + kv_heads + kv) * HD, false,
                     table_cos, table_sin, slot, new_v);
  if (c == 0 && h % group_heads == 0 && threadIdx.x < G) {
    cuq_store8<D>(keys, base + p * HD + slot, new_k);
    cuq_store8<D>(values, base + p * HD + slot, new_v);
  }
  const float scale = scores_unscaled ? 1.0f : rsqrtf(static_cast<float>(HD));  // 1: the verifier's fault
#pragma unroll
  for (int i = 0; i < kValuesPerLane; ++i) qv[i] *= scale;
  // Key j's values: from the cache, or for the new position from registers.
  const auto load_key = [&](int64_t j, float (&k)[kValuesPerLane], float (&v)[kValuesPerLane]) {
    if (j >= end) return;
    if (j == p) {
#pragma unroll
      for (int i = 0; i < kValuesPerLane; ++i) k[i] = new_k[i], v[i] = new_v[i];
    } else {
      cuq_load8<D>(keys, base + j * HD + slot, k);
      cuq_load8<D>(values, base + j * HD + slot, v);
    }
  };
  if (j == p) load_key(j, k, v);  // the new key, from registers
  float running_max = -FLT_MAX, running_sum = 0.0f, out_values[kValuesPerLane] = {};
  for (int64_t first = begin + warp * kKeysPerWarp; first < end; first += kGroups, j += kGroups) {
    float next_k[kValuesPerLane] = {}, next_v[kValuesPerLane] = {};
    load_key(j + kGroups, next_k, next_v);
    float score = 0.0f;
#pragma unroll
    for (int i = 0; i < kValuesPerLane; ++i) score += qv[i] * k[i];
    for (int o = G / 2; o > 0; o >>= 1) score += __shfl_xor_sync(0xFFFFFFFFu, score, o);
    if (j < end) {
      const float new_max = fmaxf(running_max, score);
      const float correction = expf(running_max - new_max), weight = expf(score - new_max);
      running_sum = running_sum * correction + weight;
#pragma unroll
      for (int i = 0; i < kValuesPerLane; ++i) out_values[i] = out_values[i] * correction + weight * v[i];
      running_max = new_max;
    }
#pragma unroll
    for (int i = 0; i < kValuesPerLane; ++i) {
      k[i] = next_k[i];
      v[i] = next_v[i];
    }
  }
  const bool any = begin + group < end;  // this group took at least one key
  if (lane % G == 0) {
    group_max[group] = any ? running_max : -FLT_MAX;
    group_sum[group] = any ? running_sum : 0.0f;
  }
#pragma unroll
  for (int i = 0; i < kValuesPerLane; ++i) group_out[group][slot + i] = any ? out_values[i] : 0.0f;
  __syncthreads();
  float block_max = -FLT_MAX;
  for (int g = 0; g < kGroups; ++g) block_max = fmaxf(block_max, group_max[g]);
  const int64_t at = bh * chunks + c;
  for (int t = threadIdx.x; t < HD; t += blockDim.x) {
    float sum = 0.0f, value = 0.0f;
    for (int g = 0; g < kGroups; ++g) {
      const float w = group_sum[g] > 0.0f ? expf(group_max[g] - block_max) : 0.0f;
      sum += group_sum[g] * w;
      value += group_out[g][t] * w;
    }
    partial_out[at * HD + t] = value;
    if (t == 0) {
      partial_max[at] = block_max;
      partial_sum[at] = sum;  // 0 for a chunk past the position
    }
  }
  if (cuq_last_block(tickets + bh, static_cast<unsigned>(chunks)))
    fused_combine_chunks<D, HD>(bh, chunks, partial_max, partial_sum, partial_out, out);
}

template <GpuDtype D, int HD>
void fused_launch_attention(const DecodeAttentionArgs& a, float* workspace, unsigned* tickets, FusedOut out,
                            cudaStream_t stream) {
  const int64_t chunks = fused_chunks(a.capacity), slots = a.batch * a.heads * chunks;
  float *partial_max = workspace, *partial_sum = workspace + slots, *partial_out = workspace + 2 * slots;
  const dim3 grid(static_cast<unsigned>(a.batch * a.heads), static_cast<unsigned>(chunks));
  cuq_launch(fused_rotary_attention_kernel<D, HD>, grid, kAttentionWarps * 32, stream, a.qkv, a.qkv_bias, a.cos,
             a.signed_sin,
             a.table_positions, a.keys, a.values, a.heads, a.kv_heads, a.capacity, fused_chunk(a.capacity),
             a.position, partial_max, partial_sum, partial_out, tickets, out, a.scores_unscaled,
             a.new_key_unrotated);
}

template <GpuDtype D>
void fused_attention_for_dim(const DecodeAttentionArgs& a, float* workspace, unsigned* tickets, FusedOut out,
                             cudaStream_t stream) {
  switch (a.head_dim) {
    case 64: return fused_launch_attention<D, 64>(a, workspace, tickets, out, stream);
    case 128: return fused_launch_attention<D, 128>(a, workspace, tickets, out, stream);
    default: return fused_launch_attention<D, 256>(a, workspace, tickets, out, stream);
  }
}

}  // namespace

bool decode_attention_supports(int64_t head_dim) { return head_dim == 64 || head_dim == 128 || head_dim == 256; }

int64_t decode_attention_workspace_floats(int64_t batch, int64_t heads, int64_t head_dim, int64_t capacity) {
  return batch * heads * fused_chunks(capacity) * (head_dim + 2);
}

cudaError_t decode_attention(const DecodeAttentionArgs& a, float* workspace, unsigned* tickets, FusedOut out,
                             cudaStream_t stream) {
  if (a.batch <= 0 || a.heads <= 0 || a.kv_heads <= 0 || a.heads % a.kv_heads != 0 || a.capacity <= 0 ||
      (a.cos && a.table_positions <= 0) || !decode_attention_supports(a.head_dim))
    return cudaErrorInvalidValue;
  switch (a.dtype) {
    case GpuDtype::f32: fused_attention_for_dim<GpuDtype::f32>(a, workspace, tickets, out, stream); break;
    case GpuDtype::f16: fused_attention_for_dim<GpuDtype::f16>(a, workspace, tickets, out, stream); break;
    case GpuDtype::bf16: fused_attention_for_dim<GpuDtype::bf16>(a, workspace, tickets, out, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
