// A quantised GGUF file decodes on a CUDA device (its matrix-vector kernels) as the dense model
// of its own dequantised weights: testing/quantised_decoding.h, through forward() and through
// decode_step, which on CUDA takes the fused kernels of fused/decode_kernels.h (checked here to be
// taken). Skipped without a CUDA device.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "testing/quantised_decoding.h"

namespace mlspeed {
namespace {

TEST(LlamaGgufDecodeGpu, TheCudaKernelsPickTheTokensOfTheDequantisedWeights) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  testing::expect_quantised_decoding_matches_dense(at::Device(at::kCUDA, 0));
}

TEST(LlamaGgufDecodeGpu, TheFusedDecodeStepPicksTheTokensOfTheDequantisedWeights) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  testing::expect_quantised_decoding_matches_dense(at::Device(at::kCUDA, 0), testing::DecodePath::decode_step);
}

}  // namespace
}  // namespace mlspeed
