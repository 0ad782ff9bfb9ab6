// The CPU kernels against a double-precision reference (dequantize_row, then the dot product), for
// every format and every instruction-set variant this machine runs, on shapes that fit no tile:
// 37 rows, a block count that is odd, plain rows whose length is no multiple of a vector, 1, 3
// and 9 input vectors, weights at an odd address.
//
// Two kinds of input. Integers in -127..127 with 127 in every 32 elements are quantised without
// loss (the scale is 1), so the kernels must give the reference to float rounding: this catches a
// misplaced nibble or a wrong scale anywhere. Gaussian inputs test the documented bound for an
// input that does not quantise exactly.
#include "mlspeed/quant/cpu_kernels.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "mlspeed/quant/blocks.h"
#include "mlspeed/quant/cpu_kernels_internal.h"

namespace mlspeed {
namespace {

// MLSPEED_QUANT_ISA set for one scope; the old value comes back after it.
class ScopedKernelIsa {
 public:
  explicit ScopedKernelIsa(const std::string& isa) {
    if (const char* old = std::getenv("MLSPEED_QUANT_ISA")) old_ = old, had_ = true;
    setenv("MLSPEED_QUANT_ISA", isa.c_str(), 1);
  }
  ~ScopedKernelIsa() {
    if (had_) setenv("MLSPEED_QUANT_ISA", old_.c_str(), 1);
    else unsetenv("MLSPEED_QUANT_ISA");
  }

 private:
  std::string old_;
  bool had_ = false;
};

// The variants this machine runs: those that answer to their own name.
std::vector<std::string> kernel_isas_here() {
  std::vector<std::string> out;
  for (const char* isa : {"portable", "avx2", "avx512"}) {
    ScopedKernelIsa scoped(isa);
    if (quant::cpu_kernel_isa() == isa) out.push_back(isa);
  }
  return out;
}

// A rows x cols matrix in format f, one byte past an aligned address, and its exact values.
struct KernelTestMatrix {
  int64_t rows, cols;
  std::vector<uint8_t> storage;
  std::vector<float> values;  // dequantised: what the weights are
  const uint8_t* weights() const { return storage.data() + 1; }
};

KernelTestMatrix kernel_test_matrix(WeightFormat f, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.5f);
  const int64_t row_bytes = storage_bytes(f, cols);
  KernelTestMatrix m{rows, cols, std::vector<uint8_t>(static_cast<size_t>(rows * row_bytes + 1)),
                     std::vector<float>(static_cast<size_t>(rows * cols))};
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (float& v : row) v = normal(rng);
    quant::quantize_row(f, row.data(), m.storage.data() + 1 + r * row_bytes, cols);
    quant::dequantize_row(f, m.storage.data() + 1 + r * row_bytes, m.values.data() + r * cols, cols);
  }
  return m;
}

// n vectors: integers in -127..127 with +-127 in every 32 (exactly quantisable), or Gaussian.
std::vector<float> kernel_test_inputs(int64_t n, int64_t cols, bool exact, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> integer(-127, 127);
  std::vector<float> x(static_cast<size_t>(n * cols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = exact ? static_cast<float>(integer(rng)) : normal(rng);
  if (exact)
    for (size_t i = 0; i + 32 <= x.size(); i += 32) x[i + seed % 32] = (i / 32) % 2 ? 127.0f : -127.0f;
  return x;
}

// Checks y (n x rows) against the double-precision products. The tolerance of each entry: float
// rounding, 1e-5 of sum |w x|, and for an inexact input to a quantised format the input's
// quantisation, sum |w| max|x| / 254 (cpu_kernels.h).
void expect_kernel_products(WeightFormat f, const KernelTestMatrix& m, const std::vector<float>& x, int64_t n,
                            const std::vector<float>& y, bool exact) {
  for (int64_t v = 0; v < n; ++v) {
    const float* xv = x.data() + v * m.cols;
    double max_x = 0.0;
    for (int64_t c = 0; c < m.cols; ++c) max_x = std::max(max_x, std::fabs(static_cast<double>(xv[c])));
    for (int64_t r = 0; r < m.rows; ++r) {
      double dot = 0.0, magnitude = 0.0, weight_sum = 0.0;
      for (int64_t c = 0; c < m.cols; ++c) {
        const double w = m.values[r * m.cols + c];
        dot += w * xv[c];
        magnitude += std::fabs(w * xv[c]);
        weight_sum += std::fabs(w);
      }
      double tolerance = 1e-5 * magnitude + 1e-30;
      if (traits(f).quantized && !exact) tolerance += weight_sum * max_x / 254;
      ASSERT_NEAR(y[v * m.rows + r], dot, tolerance) << "vector " << v << " row " << r;
    }
  }
}

int64_t kernel_test_cols(WeightFormat f) {
  switch (traits(f).block_elements) {
    case 1: return 203;    // no multiple of 8 or 16 floats
    case 32: return 96;    // 3 blocks: an odd count
    default: return 768;   // 3 super-blocks
  }
}

TEST(CpuKernels, EveryFormatAndVariantMatchesTheDequantisedProduct) {
  const std::vector<std::string> isas = kernel_isas_here();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), "portable");
  for (const std::string& isa : isas) {
    ScopedKernelIsa scoped(isa);
    for (WeightFormat f : kAllWeightFormats) {
      const KernelTestMatrix m = kernel_test_matrix(f, 37, kernel_test_cols(f), 7);
      for (int64_t n : {1, 3, 9}) {
        for (bool exact : {true, false}) {
          SCOPED_TRACE(isa + " " + std::string(name(f)) + " n=" + std::to_string(n) + (exact ? " exact" : " gaussian"));
          const std::vector<float> x = kernel_test_inputs(n, m.cols, exact, static_cast<uint32_t>(n) + 11);
          std::vector<float> y(static_cast<size_t>(n * m.rows), NAN);
          if (n == 1)
            quant::gemv(f, m.weights(), m.rows, m.cols, x.data(), y.data());
          else
            quant::gemm_rows(f, m.weights(), m.rows, m.cols, x.data(), n, y.data());
          expect_kernel_products(f, m, x, n, y, exact);
        }
      }
    }
  }
}

TEST(CpuKernels, QuantiseInputsAlikeInEveryVariant) {
  if (!quant::kernels::cpu_runs_avx2()) GTEST_SKIP() << "no AVX2 here";
  const int64_t elements = 256 * 6;
  std::vector<float> x = kernel_test_inputs(1, elements, false, 9);
  // With 127 the largest of its block the scale is 1: 2.5 is a tie, where rounding to even and
  // rounding away from zero part ways.
  x[3] = 0.0f, x[33] = 127.0f, x[40] = 2.5f, x[41] = -2.5f;
  for (int j = 512; j < 768; ++j) x[j] = 0.0f;  // a super-block of zeros: scale 0
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q4_0, WeightFormat::q4_k, WeightFormat::q6_k}) {
    SCOPED_TRACE(std::string(name(f)));
    struct Arrays {
      std::vector<int8_t> q = std::vector<int8_t>(elements);
      std::vector<float> d = std::vector<float>(elements / 32);
      std::vector<int32_t> bias = std::vector<int32_t>(elements / 4);
      std::vector<int16_t> sum16 = std::vector<int16_t>(elements / 16), sum32 = std::vector<int16_t>(elements / 32);
      quant::kernels::InputArrays view() { return {q.data(), d.data(), bias.data(), sum16.data(), sum32.data()}; }
    } portable, avx2;
    quant::kernels::quantize_input_portable(f, x.data(), elements, portable.view());
    quant::kernels::quantize_input_avx2(f, x.data(), elements, avx2.view());
    EXPECT_EQ(portable.q, avx2.q);
    EXPECT_EQ(portable.d, avx2.d);
    EXPECT_EQ(portable.bias, avx2.bias);
    EXPECT_EQ(portable.sum16, avx2.sum16);
    EXPECT_EQ(portable.sum32, avx2.sum32);
  }
}

TEST(CpuKernels, AnswersAlikeOnOneThreadAndTwo) {
  // 1000 rows of 512 q4_0 weights, 288 KB: enough to be split among threads.
  const KernelTestMatrix m = kernel_test_matrix(WeightFormat::q4_0, 1000, 512, 3);
  const std::vector<float> x = kernel_test_inputs(2, m.cols, false, 5);
  const int threads = at::get_num_threads();
  std::vector<float> one(2 * 1000), two(2 * 1000);
  at::set_num_threads(1);
  quant::gemm_rows(WeightFormat::q4_0, m.weights(), m.rows, m.cols, x.data(), 2, one.data());
  at::set_num_threads(2);
  quant::gemm_rows(WeightFormat::q4_0, m.weights(), m.rows, m.cols, x.data(), 2, two.data());
  at::set_num_threads(threads);
  EXPECT_EQ(one, two);
  expect_kernel_products(WeightFormat::q4_0, m, x, 2, two, false);
}

TEST(CpuKernels, RefusesPartialBlocksAndUnknownVariants) {
  std::vector<uint8_t> w(1024);
  std::vector<float> x(64), y(4);
  EXPECT_THROW(quant::gemv(WeightFormat::q4_0, w.data(), 2, 48, x.data(), y.data()), std::invalid_argument);
  EXPECT_THROW(quant::gemv(WeightFormat::q6_k, w.data(), 2, 64, x.data(), y.data()), std::invalid_argument);
  EXPECT_THROW(quant::gemm_rows(WeightFormat::f32, w.data(), 2, 8, x.data(), -1, y.data()), std::invalid_argument);
  {
    ScopedKernelIsa scoped("sse9");
    EXPECT_THROW(quant::cpu_kernel_isa(), std::invalid_argument);
    EXPECT_THROW(quant::gemv(WeightFormat::f32, w.data(), 2, 8, x.data(), y.data()), std::invalid_argument);
  }
  ScopedKernelIsa scoped("portable");
  EXPECT_EQ(quant::cpu_kernel_isa(), "portable");
}

TEST(CpuKernels, EmptyShapesWriteNothingOrZeros) {
  std::vector<float> x(8, 1.0f), y(3, 5.0f);
  quant::gemv(WeightFormat::q8_0, nullptr, 0, 32, x.data(), y.data());
  EXPECT_EQ(y, std::vector<float>(3, 5.0f));
  quant::gemv(WeightFormat::q8_0, nullptr, 3, 0, x.data(), y.data());
  EXPECT_EQ(y, std::vector<float>(3, 0.0f));
}

}  // namespace
}  // namespace mlspeed
