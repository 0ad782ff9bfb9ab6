// How mlspeed sets the CPU up before it times anything, where the C library's defaults leave speed
// unused. It acts on the whole process: the program calls it once, first, before any tensor is
// allocated.
#pragma once

#include <string>

namespace mlspeed {

// Keeps the memory that freed tensors held for the next allocation, as LibTorch's caching allocator
// does on CUDA. glibc's malloc maps every large block afresh (above a threshold that rises to at
// most 32 MiB) and unmaps it when it is freed, so each training step has the kernel zero-fill its
// activations again, page by page: nanoGPT's training step on a 2-core VM ran 2.7x slower, its run
// spending 94 s in the kernel for 8.8 million page faults. release_cached_memory (device.h) still
// hands freed memory back between configurations.
void keep_freed_cpu_memory();

// How the CPU's memory is allocated, for the run's context: whether keep_freed_cpu_memory is in
// force.
std::string cpu_allocator_description();

}  // namespace mlspeed
