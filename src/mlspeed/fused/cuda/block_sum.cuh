// The sum of one value a thread over a thread block of up to 1024 threads (a multiple of 32),
// shared by the norm kernels of this folder: a warp-shuffle reduction, then one through shared
// memory. Every thread gets the sum; a kernel may call it more than once (it waits for every
// thread to have read the shared partials before it returns).
#pragma once

namespace mlspeed::fused::gpu {

inline constexpr int kBlockSumMaxThreads = 1024;

__device__ __forceinline__ float fused_block_sum(float value) {
  __shared__ float partial[kBlockSumMaxThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int o = 16; o > 0; o >>= 1) value += __shfl_xor_sync(0xFFFFFFFFu, value, o);
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  float total = 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) total += partial[w];
  __syncthreads();
  return total;
}

}  // namespace mlspeed::fused::gpu
