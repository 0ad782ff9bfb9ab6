#include "mlspeed/device/cpu_setup.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>

namespace mlspeed {
namespace {

std::atomic<bool> freed_memory_kept{false};

}  // namespace

void keep_freed_cpu_memory() {
#if defined(__GLIBC__)
  // No block is mapped on its own, so none is unmapped when freed; and the top of the heap is
  // never trimmed after a free (-1, as mallopt(3) documents). Both settings only change when
  // memory goes back to the kernel, not what a program can allocate.
  const bool no_mmap = mallopt(M_MMAP_MAX, 0) == 1;
  const bool no_trim = mallopt(M_TRIM_THRESHOLD, -1) == 1;
  freed_memory_kept = no_mmap && no_trim;
#endif
}

std::string cpu_allocator_description() {
#if defined(__GLIBC__)
  return freed_memory_kept ? "glibc malloc, freed memory kept for reuse" : "glibc malloc, defaults";
#else
  return "the platform's malloc, defaults";
#endif
}

}  // namespace mlspeed
