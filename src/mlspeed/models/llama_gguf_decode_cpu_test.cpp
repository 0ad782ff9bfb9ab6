// A quantised GGUF file decodes on the CPU (the int8 matrix-vector kernels) as the dense model of
// its own dequantised weights: testing/quantised_decoding.h.
#include <gtest/gtest.h>

#include "testing/quantised_decoding.h"

namespace mlspeed {
namespace {

TEST(LlamaGgufDecode, TheCpuKernelsPickTheTokensOfTheDequantisedWeights) {
  testing::expect_quantised_decoding_matches_dense(at::Device(at::kCPU));
}

}  // namespace
}  // namespace mlspeed
