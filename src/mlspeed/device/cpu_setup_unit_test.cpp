#include "mlspeed/device/cpu_setup.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>

#include "mlspeed/device/host.h"

namespace mlspeed {
namespace {

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Page faults taken to allocate `bytes`, write one byte a page and free them.
long faults_to_fill(size_t bytes) {
  const long before = minor_page_faults();
  auto* block = static_cast<volatile char*>(std::malloc(bytes));
  for (size_t i = 0; i < bytes; i += 4096) block[i] = 1;
  std::free(const_cast<char*>(block));
  return minor_page_faults() - before;
}

TEST(CpuSetup, FreedMemoryIsReusedWithoutTheKernelFillingItAgain) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "only glibc's malloc is set up";
#endif
  if (collect_host_facts().sanitized) GTEST_SKIP() << "a sanitizer's allocator replaces malloc";
  keep_freed_cpu_memory();
  EXPECT_EQ(cpu_allocator_description(), "glibc malloc, freed memory kept for reuse");
  EXPECT_EQ(collect_host_facts().cpu_allocator, cpu_allocator_description());

  constexpr size_t kBytes = size_t{64} << 20;  // above the largest threshold glibc maps blocks at
  faults_to_fill(kBytes);                      // the heap grows to hold it
  // glibc's defaults map the block afresh each time: one fault a page, 16,384.
  EXPECT_LT(faults_to_fill(kBytes), static_cast<long>(kBytes / 4096 / 16));
}

}  // namespace
}  // namespace mlspeed
