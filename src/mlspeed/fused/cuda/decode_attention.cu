// Attention of one new token over a key/value cache (flash-decoding): the positions 0..*position are
// split into chunks, each chunk's thread block computes a partial softmax-weighted sum with an
// online softmax, and a second kernel combines the chunks and writes the result as o_proj's
// quantised input. Only the filled positions are read (the position is read on the device), where
// the unfused step's SDPA reads the whole capacity under a mask: at a depth of thousands of
// positions the cache is a third of the bytes a token reads.
//
// In a chunk's block of 4 warps, a group of head_dim / 8 lanes takes one key at a time, each lane
// 8 of its values (one 16-byte load of bfloat16/float16): q.k is reduced over the group with a few
// shuffles, and each lane keeps the running maximum, sum and 8 output values of its group. The
// groups are combined through shared memory at the end of the chunk.
#include <cuda_runtime.h>

#include <cfloat>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/gemv_input.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load;
using quant::gpu::cuq_round;
using quant::gpu::cuq_wait_for_predecessor;
using quant::gpu::cuq_write_input_run;
using quant::gpu::kGemvInputRun;

constexpr int kAttentionWarps = 4;
constexpr int kValuesPerLane = 8;

// Positions a chunk takes for a cache of `capacity`: at least 64, and about 16 chunks for a long
// cache so that even one sequence of 32 heads fills the GPU.
int64_t fused_chunk(int64_t capacity) {
  const int64_t per_16 = (capacity + 15) / 16;
  return per_16 <= 64 ? 64 : (per_16 + 63) / 64 * 64;
}

int64_t fused_chunks(int64_t capacity) { return (capacity + fused_chunk(capacity) - 1) / fused_chunk(capacity); }

// Values i..i+7 of an array of `D` (i a multiple of 8, the array 16-byte aligned).
template <GpuDtype D>
__device__ __forceinline__ void fused_load8(const void* p, int64_t i, float (&v)[kValuesPerLane]) {
  if constexpr (D == GpuDtype::f32) {
    const float4* f = reinterpret_cast<const float4*>(static_cast<const float*>(p) + i);
    const float4 a = __ldg(f), b = __ldg(f + 1);
    v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
  } else {
    const uint4 raw = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(p) + i));
    const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const uint16_t lo = static_cast<uint16_t>(words[k] & 0xFFFF), hi = static_cast<uint16_t>(words[k] >> 16);
      v[2 * k] = cuq_load<D>(&lo, 0);
      v[2 * k + 1] = cuq_load<D>(&hi, 0);
    }
  }
}

template <GpuDtype D, int HD>
__global__ void __launch_bounds__(kAttentionWarps * 32)
    fused_attention_chunk_kernel(const void* q, const void* keys, const void* values, int64_t heads, int64_t kv_heads,
                                 int64_t capacity, int64_t chunk, const int64_t* position, float* partial_max,
                                 float* partial_sum, float* partial_out) {
  constexpr int G = HD / kValuesPerLane, kKeysPerWarp = 32 / G, kGroups = kAttentionWarps * kKeysPerWarp;
  __shared__ float group_max[kGroups], group_sum[kGroups], group_out[kGroups][HD];
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  const int64_t bh = blockIdx.x, b = bh / heads, h = bh % heads, chunks = gridDim.y, c = blockIdx.y;
  const int64_t kv = h / (heads / kv_heads);
  const int64_t last = min(*position, capacity - 1);
  const int64_t begin = c * chunk, end = min(begin + chunk, last + 1);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int group = warp * kKeysPerWarp + lane / G, slot = (lane % G) * kValuesPerLane;
  float qv[kValuesPerLane];
  fused_load8<D>(q, bh * HD + slot, qv);
  const float scale = rsqrtf(static_cast<float>(HD));
#pragma unroll
  for (int i = 0; i < kValuesPerLane; ++i) qv[i] *= scale;
  const int64_t base = (b * kv_heads + kv) * capacity * HD;
  float running_max = -FLT_MAX, running_sum = 0.0f, out[kValuesPerLane] = {};
  // The loop is the same for the warp's lanes (the shuffles need them all): a group past the last
  // key of the chunk reduces zeros and keeps its state. The next keys' loads are issued before this
  // key's arithmetic, so that a load's latency is paid once a chunk rather than once a key.
  float k[kValuesPerLane] = {}, v[kValuesPerLane] = {};
  int64_t j = begin + warp * kKeysPerWarp + lane / G;
  if (j < end) {
    fused_load8<D>(keys, base + j * HD + slot, k);
    fused_load8<D>(values, base + j * HD + slot, v);
  }
  for (int64_t first = begin + warp * kKeysPerWarp; first < end; first += kGroups, j += kGroups) {
    float next_k[kValuesPerLane] = {}, next_v[kValuesPerLane] = {};
    if (j + kGroups < end) {
      fused_load8<D>(keys, base + (j + kGroups) * HD + slot, next_k);
      fused_load8<D>(values, base + (j + kGroups) * HD + slot, next_v);
    }
    float score = 0.0f;
#pragma unroll
    for (int i = 0; i < kValuesPerLane; ++i) score += qv[i] * k[i];
    for (int o = G / 2; o > 0; o >>= 1) score += __shfl_xor_sync(0xFFFFFFFFu, score, o);
    if (j < end) {
      const float new_max = fmaxf(running_max, score);
      const float correction = expf(running_max - new_max), weight = expf(score - new_max);
      running_sum = running_sum * correction + weight;
#pragma unroll
      for (int i = 0; i < kValuesPerLane; ++i) out[i] = out[i] * correction + weight * v[i];
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
  for (int i = 0; i < kValuesPerLane; ++i) group_out[group][slot + i] = any ? out[i] : 0.0f;
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
}

// One thread block of HD threads a (sequence, head): the chunks combined, divided by the total
// sum, rounded to the dtype and quantised, a warp a run of 32 values.
template <GpuDtype D, int HD>
__global__ void __launch_bounds__(HD)
    fused_attention_combine_kernel(int64_t heads, int64_t chunks, const float* partial_max, const float* partial_sum,
                                   const float* partial_out, GemvInput out) {
  const int64_t bh = blockIdx.x, t = threadIdx.x;
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  float top = -FLT_MAX;
  for (int64_t c = 0; c < chunks; ++c)
    if (partial_sum[bh * chunks + c] > 0.0f) top = fmaxf(top, partial_max[bh * chunks + c]);
  float sum = 0.0f, value = 0.0f;
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t at = bh * chunks + c;
    if (partial_sum[at] <= 0.0f) continue;
    const float w = expf(partial_max[at] - top);
    sum += partial_sum[at] * w;
    value += partial_out[at * HD + t] * w;
  }
  const int64_t run = (bh * HD + t) / kGemvInputRun;  // row b's runs are heads * HD / 32 consecutive ones
  cuq_write_input_run(cuq_round<D>(value / sum), static_cast<int>(t & 31), run, const_cast<int8_t*>(out.q),
                      const_cast<float*>(out.d), const_cast<int32_t*>(out.sum));
}

template <GpuDtype D, int HD>
void fused_launch_attention(const void* q, const void* keys, const void* values, int64_t batch, int64_t heads,
                            int64_t kv_heads, int64_t capacity, const int64_t* position, float* workspace,
                            GemvInput out, cudaStream_t stream) {
  const int64_t chunks = fused_chunks(capacity), slots = batch * heads * chunks;
  float *partial_max = workspace, *partial_sum = workspace + slots, *partial_out = workspace + 2 * slots;
  const dim3 grid(static_cast<unsigned>(batch * heads), static_cast<unsigned>(chunks));
  cuq_launch(fused_attention_chunk_kernel<D, HD>, grid, kAttentionWarps * 32, stream, q, keys, values, heads,
             kv_heads, capacity, fused_chunk(capacity), position, partial_max, partial_sum, partial_out);
  cuq_launch(fused_attention_combine_kernel<D, HD>, static_cast<unsigned>(batch * heads), HD, stream, heads, chunks,
             partial_max, partial_sum, partial_out, out);
}

template <GpuDtype D>
void fused_attention_for_dim(const void* q, const void* keys, const void* values, int64_t batch, int64_t heads,
                             int64_t kv_heads, int64_t head_dim, int64_t capacity, const int64_t* position,
                             float* workspace, GemvInput out, cudaStream_t stream) {
  switch (head_dim) {
    case 64: return fused_launch_attention<D, 64>(q, keys, values, batch, heads, kv_heads, capacity, position, workspace, out, stream);
    case 128: return fused_launch_attention<D, 128>(q, keys, values, batch, heads, kv_heads, capacity, position, workspace, out, stream);
    default: return fused_launch_attention<D, 256>(q, keys, values, batch, heads, kv_heads, capacity, position, workspace, out, stream);
  }
}

}  // namespace

bool decode_attention_supports(int64_t head_dim) { return head_dim == 64 || head_dim == 128 || head_dim == 256; }

int64_t decode_attention_workspace_floats(int64_t batch, int64_t heads, int64_t head_dim, int64_t capacity) {
  return batch * heads * fused_chunks(capacity) * (head_dim + 2);
}

cudaError_t decode_attention_quantize(const void* q, const void* keys, const void* values, int64_t batch,
                                      int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t capacity,
                                      const int64_t* position, float* workspace, GpuDtype dtype, GemvInput out,
                                      cudaStream_t stream) {
  if (batch <= 0 || heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || capacity <= 0 ||
      !decode_attention_supports(head_dim))
    return cudaErrorInvalidValue;
  switch (dtype) {
    case GpuDtype::f32: fused_attention_for_dim<GpuDtype::f32>(q, keys, values, batch, heads, kv_heads, head_dim, capacity, position, workspace, out, stream); break;
    case GpuDtype::f16: fused_attention_for_dim<GpuDtype::f16>(q, keys, values, batch, heads, kv_heads, head_dim, capacity, position, workspace, out, stream); break;
    case GpuDtype::bf16: fused_attention_for_dim<GpuDtype::bf16>(q, keys, values, batch, heads, kv_heads, head_dim, capacity, position, workspace, out, stream); break;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
