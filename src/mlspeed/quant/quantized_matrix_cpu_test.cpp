// Quantised matrices through LibTorch: the tensor-op dequantisation equals the scalar reference
// of blocks.h bit for bit, random blocks are finite with the spread asked for, and the products
// (the CPU kernels for a few rows, dequantise-then-matmul for many) equal a float64 reference.
#include "mlspeed/quant/quantized_matrix.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <vector>

#include "mlspeed/quant/blocks.h"

namespace mlspeed::quant {
namespace {

// Rows not a multiple of any tile; columns two blocks of the largest format.
constexpr int64_t kRows = 37, kCols = 512;

QuantizedMatrix quantized_random(WeightFormat f, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return quantize(at::randn({kRows, kCols}, generator) * 0.05, f, at::kCPU);
}

// Row by row through blocks.h's dequantize_row.
at::Tensor reference_values(const QuantizedMatrix& w) {
  at::Tensor out = at::empty({w.rows, w.cols}, at::kFloat);
  const int64_t row_bytes = w.blocks.size(1);
  for (int64_t r = 0; r < w.rows; ++r)
    dequantize_row(w.format, w.blocks.data_ptr<uint8_t>() + r * row_bytes, out.data_ptr<float>() + r * w.cols, w.cols);
  return out;
}

TEST(QuantizedMatrix, TensorOpsDequantiseExactlyAsTheReference) {
  for (WeightFormat f : kAllWeightFormats) {
    const QuantizedMatrix w = quantized_random(f, 1);
    EXPECT_TRUE(at::equal(dequantize(w, at::kFloat), reference_values(w))) << name(f);
    EXPECT_TRUE(at::equal(dequantize(w.narrow_rows(5, 3), at::kFloat), reference_values(w).narrow(0, 5, 3))) << name(f);
  }
}

TEST(QuantizedMatrix, RandomBlocksAreFiniteWithAWeightsSpread) {
  for (WeightFormat f : kAllWeightFormats) {
    QuantizedMatrix w = empty_matrix(f, 64, kCols, at::kCPU);
    fill_random(w, at::make_generator<at::CPUGeneratorImpl>(3));
    const at::Tensor values = dequantize(w, at::kFloat);
    EXPECT_TRUE(values.isfinite().all().item<bool>()) << name(f);
    const double spread = values.std().item<double>();
    EXPECT_GT(spread, 0.005) << name(f);
    EXPECT_LT(spread, 0.08) << name(f);
  }
}

// A few input rows take the CPU kernels (x quantised to int8 per block of 32 or 256: each element
// within max|x| of its block / 254), many the exact dequantise-then-matmul; the bound takes the
// largest |x| of each 256 (which covers both) times |w|, plus float rounding.
TEST(QuantizedMatrix, ProductsEqualAFloat64Reference) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(7);
  for (WeightFormat f : kAllWeightFormats) {
    const QuantizedMatrix w = quantized_random(f, 2);
    const at::Tensor dense = reference_values(w).to(at::kDouble);
    for (int64_t n : {1, 3, 12}) {
      const at::Tensor x = at::randn({n, kCols}, generator);
      const at::Tensor y = linear(x, w);
      ASSERT_EQ(y.sizes(), (std::vector<int64_t>{n, kRows}));
      const at::Tensor expected = at::matmul(x.to(at::kDouble), dense.t());
      const at::Tensor block_max =
          x.abs().view({n, kCols / 256, 256}).amax(-1, true).expand({n, kCols / 256, 256}).reshape({n, kCols});
      const at::Tensor bound = at::matmul(block_max.to(at::kDouble), dense.abs().t()) * (1.0 / 254) + 1e-4;
      EXPECT_TRUE(((y.to(at::kDouble) - expected).abs() <= bound).all().item<bool>())
          << name(f) << " n=" << n << " max error " << (y.to(at::kDouble) - expected).abs().max().item<double>();
    }
    const at::Tensor x3 = at::randn({2, 3, kCols}, generator);  // leading dimensions kept
    EXPECT_EQ(linear(x3, w).sizes(), (std::vector<int64_t>{2, 3, kRows}));
  }
}

// `run --kernels libtorch`: a decoding row (one input row) takes LibTorch's matrix product of the
// dequantised weights, exactly, where mlspeed's kernel rounds its input to int8 blocks; and the
// row says so.
TEST(QuantizedMatrix, LibTorchsKernelsAloneDequantiseForTheMatrixProduct) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(8);
  const QuantizedMatrix w = quantized_random(WeightFormat::q4_0, 3);
  const at::Tensor x = at::randn({1, kCols}, generator);
  const at::Tensor dequantised_product = at::matmul(x, dequantize(w, at::kFloat).t());
  const at::Tensor own = linear(x, w);
  EXPECT_FALSE(own.equal(dequantised_product)) << "mlspeed's kernel quantises its input";
  {
    KernelSetScope libtorch(KernelSet::libtorch);
    EXPECT_TRUE(linear(x, w).equal(dequantised_product));
  }
  EXPECT_TRUE(linear(x, w).equal(own)) << "the scope's end brings mlspeed's kernel back";
  const at::Device cpu(at::kCPU);
  EXPECT_EQ(path_name(cpu, 1, KernelSet::libtorch), "dequantize+matmul");
  EXPECT_EQ(path_name(cpu, 1, KernelSet::mlspeed).rfind("cpu-", 0), 0u);
  EXPECT_EQ(path_name(cpu, 64, KernelSet::mlspeed), "dequantize+matmul") << "a prompt";
}

TEST(QuantizedMatrix, GatheredRowsAreTheDequantisedRows) {
  const QuantizedMatrix w = quantized_random(WeightFormat::q4_k, 4);
  const at::Tensor ids = at::tensor(std::vector<int64_t>{3, 0, 36, 3}, at::kLong).view({2, 2});
  const at::Tensor rows = gather_rows(w, ids, at::kFloat);
  ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{2, 2, kCols}));
  EXPECT_TRUE(at::equal(rows.view({4, kCols}), reference_values(w).index_select(0, ids.view({4}))));
}

}  // namespace
}  // namespace mlspeed::quant
