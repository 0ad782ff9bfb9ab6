// Work that needs every thread block's results, done in the same kernel by the block that finishes
// last (CUDA's threadFenceReduction pattern): a decode step's kernels are a few microseconds
// each, and a kernel boundary (the wait for the whole grid, then the next kernel's start) costs
// about as much as a small kernel's work. Used where a kernel's output needs a second pass over all
// of it: the chunks of a decode attention combined.
#pragma once

#include <cstdint>

namespace mlspeed::quant::gpu {

// Whether this thread block is the last of `blocks` blocks that share *ticket to finish; every
// thread of the block calls it, after its last write that the last block must see. The others'
// writes are then visible to the last block's loads from L2 (__ldcg; the read-only cache may hold
// stale lines). *ticket must be zero before the kernel; the last block sets it back to zero.
__device__ __forceinline__ bool cuq_last_block(unsigned* ticket, unsigned blocks) {
  __shared__ bool last;
  __threadfence();  // this block's writes before its ticket
  __syncthreads();
  if (threadIdx.x == 0) {
    last = atomicAdd(ticket, 1u) == blocks - 1;
    if (last) *ticket = 0;  // every block has taken its ticket
  }
  __syncthreads();
  if (last) __threadfence();  // the others' writes before this block's reads
  return last;
}

}  // namespace mlspeed::quant::gpu
