// Kernel launches that overlap with the kernel before them: programmatic dependent launch (Hopper
// and newer). A decode step is some 330 kernels a token, most of them a few microseconds long, and
// each one's launch, ramp-up and tail would otherwise stand between its predecessor's last store
// and its own first load. Launched this way (a CUDA graph captures it as a programmatic edge), a
// kernel's blocks may start while its predecessor still runs: they do what depends on nothing
// the predecessor writes (a product prefetches its weights into L2), then wait for it.
//
// The contract every kernel of mlspeed launched by cuq_launch keeps, on every path of every block:
//   1. cuq_wait_for_predecessor() before reading anything another kernel writes and before writing
//      anything (the predecessor may still read memory the caching allocator hands on), and
//   2. cuq_allow_successor() after it (so that at most two kernels are in flight: the successor's
//      blocks wait on this one, which has passed its own wait).
// A kernel that is not launched this way (LibTorch's) never lets its successor start early, and a
// successor's wait returns at once when its predecessor has finished.
//
// The one exception to 1: memory that only kernels before the predecessor wrote may be read before
// the wait (a decode step's cache position and earlier cache rows, written by earlier steps;
// constant tables). A kernel starts early only once its predecessor has passed its own wait, that
// is once every kernel before the predecessor has finished and its writes are visible.
//
// MLSPEED_CUDA_PDL=off (or 0) launches every kernel the ordinary way, to measure what the overlap
// is worth; GPUs before compute capability 9.0 always do.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace mlspeed::quant::gpu {

__device__ __forceinline__ void cuq_wait_for_predecessor() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void cuq_allow_successor() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// A hint that the 128-byte line holding p will be read soon; never a fault, never a wrong value.
__device__ __forceinline__ void cuq_prefetch_l2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

// Whether launches on the current device overlap (compute capability 9.0 or newer, and not turned
// off by MLSPEED_CUDA_PDL).
bool cuq_overlapping_launches();

// `shared`: the bytes of dynamic shared memory each block gets.
template <class... Params, class... Args>
void cuq_launch_shared(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared, cudaStream_t stream,
                       Args&&... args) {
  cudaLaunchAttribute overlap[1];
  overlap[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  overlap[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared;
  config.stream = stream;
  if (cuq_overlapping_launches()) {
    config.attrs = overlap;
    config.numAttrs = 1;
  }
  // An error stays the runtime's last error, which every launcher returns.
  (void)cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

template <class... Params, class... Args>
void cuq_launch(void (*kernel)(Params...), dim3 grid, dim3 block, cudaStream_t stream, Args&&... args) {
  cuq_launch_shared(kernel, grid, block, 0, stream, std::forward<Args>(args)...);
}

}  // namespace mlspeed::quant::gpu
