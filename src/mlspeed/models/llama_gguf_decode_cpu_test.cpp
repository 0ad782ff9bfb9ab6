// A quantised GGUF file decodes on the CPU (the int8 matrix-vector kernels) as the dense model of
// its own dequantised weights: testing/quantised_decoding.h, through forward() and decode_step.
#include <gtest/gtest.h>

#include "testing/quantised_decoding.h"

namespace mlspeed {
namespace {

TEST(LlamaGgufDecode, TheCpuKernelsPickTheTokensOfTheDequantisedWeights) {
  testing::expect_quantised_decoding_matches_dense(at::Device(at::kCPU));
}

TEST(LlamaGgufDecode, TheDeviceDecodeStepPicksTheTokensOfTheDequantisedWeights) {
  testing::expect_quantised_decoding_matches_dense(at::Device(at::kCPU), testing::DecodePath::decode_step);
}

}  // namespace
}  // namespace mlspeed
