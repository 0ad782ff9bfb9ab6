// The rotary embedding of q and k and the key/value cache write of one decode step, in one kernel:
// one thread block a (sequence, head) of qkv, one thread a value. The unfused step runs five to
// seven kernels for it (the table rows at the position, x cos, the roll, addcmul, two index copies);
// the rounding is apply_rotary's (x cos rounded to the dtype, then the sum).
#include <cuda_runtime.h>

#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch;
using quant::gpu::cuq_load;
using quant::gpu::cuq_round;
using quant::gpu::cuq_store;
using quant::gpu::cuq_wait_for_predecessor;

template <GpuDtype D>
__global__ void fused_rotary_cache_write_kernel(const void* qkv, int64_t heads, int64_t kv_heads, int64_t head_dim,
                                                const void* cos, const void* signed_sin, int64_t table_positions,
                                                const int64_t* position, void* keys, void* values, int64_t capacity,
                                                void* q_out) {
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  const int64_t p = *position;
  if (p < 0 || p >= capacity || p >= table_positions) __trap();  // LibTorch's index assertion, on the device
  const int64_t b = blockIdx.x, h = blockIdx.y, i = threadIdx.x;
  const int64_t width = (heads + 2 * kv_heads) * head_dim;
  const int64_t at = b * width + h * head_dim;
  const float x = cuq_load<D>(qkv, at + i);
  if (h >= heads + kv_heads) {  // v: copied as it is
    const int64_t kv = h - heads - kv_heads;
    cuq_store<D>(values, ((b * kv_heads + kv) * capacity + p) * head_dim + i, x);
    return;
  }
  const float rolled = cuq_load<D>(qkv, at + (i + head_dim / 2) % head_dim);
  const float scaled = cuq_round<D>(x * cuq_load<D>(cos, p * head_dim + i));
  const float rotated = scaled + rolled * cuq_load<D>(signed_sin, p * head_dim + i);
  if (h < heads) {
    cuq_store<D>(q_out, (b * heads + h) * head_dim + i, rotated);
  } else {
    cuq_store<D>(keys, ((b * kv_heads + h - heads) * capacity + p) * head_dim + i, rotated);
  }
}

}  // namespace

cudaError_t rotary_cache_write(const void* qkv, int64_t batch, int64_t heads, int64_t kv_heads, int64_t head_dim,
                               const void* cos, const void* signed_sin, int64_t table_positions,
                               const int64_t* position, void* keys, void* values, int64_t capacity, void* q_out,
                               GpuDtype dtype, cudaStream_t stream) {
  if (batch <= 0 || heads <= 0 || kv_heads <= 0 || head_dim <= 0 || head_dim % 2 != 0 || head_dim > 1024)
    return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(batch), static_cast<unsigned>(heads + 2 * kv_heads));
  const auto threads = static_cast<unsigned>(head_dim);
#define MLSPEED_FUSED_ROTARY(D)                                                                                    \
  cuq_launch(fused_rotary_cache_write_kernel<D>, grid, threads, stream, qkv, heads, kv_heads, head_dim, cos, \
             signed_sin, table_positions, position, keys, values, capacity, q_out)
  switch (dtype) {
    case GpuDtype::f32: MLSPEED_FUSED_ROTARY(GpuDtype::f32); break;
    case GpuDtype::f16: MLSPEED_FUSED_ROTARY(GpuDtype::f16); break;
    case GpuDtype::bf16: MLSPEED_FUSED_ROTARY(GpuDtype::bf16); break;
  }
#undef MLSPEED_FUSED_ROTARY
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
