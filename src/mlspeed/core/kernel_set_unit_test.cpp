#include "mlspeed/core/kernel_set.h"

#include <gtest/gtest.h>

namespace mlspeed {
namespace {

TEST(KernelSet, NamesParseBackAndOnlyThem) {
  for (KernelSet k : kAllKernelSets) EXPECT_EQ(parse_kernel_set(name(k)), k);
  EXPECT_EQ(parse_kernel_set("LibTorch"), std::nullopt);
  EXPECT_EQ(parse_kernel_set(""), std::nullopt);
}

TEST(KernelSet, AScopeSetsTheChoiceAndPutsThePreviousOneBack) {
  EXPECT_TRUE(own_kernels()) << "mlspeed's own kernels by default";
  {
    KernelSetScope libtorch(KernelSet::libtorch);
    EXPECT_FALSE(own_kernels());
    EXPECT_EQ(current_kernel_set(), KernelSet::libtorch);
    {
      KernelSetScope inner(KernelSet::mlspeed);
      EXPECT_TRUE(own_kernels());
    }
    EXPECT_FALSE(own_kernels());
  }
  EXPECT_TRUE(own_kernels());
}

}  // namespace
}  // namespace mlspeed
