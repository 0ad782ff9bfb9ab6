// quant::linear on a CUDA device (label gpu) against a float64 reference on the CPU: blocks.h's
// dequantize_row, then the product in double. Every format, rows 37 (no tile fits) and 4096,
// columns of one block, two blocks and 4096, 1, 3, 8 input rows (the matrix-vector kernels of
// src/mlspeed/quant/cuda), 9 and 64 (dequantise + cuBLAS), x in float32, bfloat16 and float16;
// row views that start at any even address, strided inputs, and a decode step recorded in a CUDA
// graph. Without a CUDA device every test is skipped.
//
// The inputs are k / 64 with |k| <= 127 and +-127 in every run of 32: the same numbers in all
// three dtypes, and quantised without loss by the kernels' int8 input (its scale is exactly 1/64),
// so every path must give the reference to within the rounding of its dtype: a misplaced nibble or
// a wrong scale is far outside. Gaussian inputs check the documented bound of the int8 input.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/device/device.h"
#include "mlspeed/device/graph.h"
#include "mlspeed/device/timer.h"
#include "mlspeed/quant/blocks.h"
#include "mlspeed/quant/quantized_matrix.h"

namespace mlspeed {
namespace {

class QuantKernelsGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
  const c10::Device gpu{c10::DeviceType::CUDA, 0};
};

// Random valid blocks, made on the CPU (a CPU generator: the same bytes on any machine).
quant::QuantizedMatrix quant_gpu_random_matrix(WeightFormat f, int64_t rows, int64_t cols, uint64_t seed) {
  quant::QuantizedMatrix w = quant::empty_matrix(f, rows, cols, at::kCPU);
  quant::fill_random(w, at::make_generator<at::CPUGeneratorImpl>(seed));
  return w;
}

// The matrix in double, row by row through blocks.h's dequantize_row (blocks contiguous, on the CPU).
at::Tensor quant_gpu_reference_values(const quant::QuantizedMatrix& w) {
  const at::Tensor blocks = w.blocks.to(at::kCPU).contiguous();
  at::Tensor out = at::empty({w.rows, w.cols}, at::kFloat);
  const int64_t row_bytes = blocks.size(1);
  for (int64_t r = 0; r < w.rows; ++r)
    quant::dequantize_row(w.format, blocks.data_ptr<uint8_t>() + r * row_bytes, out.data_ptr<float>() + r * w.cols,
                          w.cols);
  return out.to(at::kDouble);
}

// n rows of k / 64, |k| <= 127, with +-127 somewhere in every run of 32 (float32, on the CPU).
at::Tensor quant_gpu_exact_inputs(int64_t n, int64_t cols, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor k = at::randint(-127, 128, {n, cols}, generator, at::kFloat);
  if (cols >= 32) {
    at::Tensor runs = k.view({n, cols / 32, 32});
    const at::Tensor where = at::randint(0, 32, {n, cols / 32, 1}, generator, at::kLong);
    const at::Tensor sign = at::randint(0, 2, {n, cols / 32, 1}, generator, at::kFloat) * 2 - 1;
    runs.scatter_(2, where, sign * 127);
  }
  return k / 64;
}

// The rounding each path may spend, relative to sum |w x|, a few times over (the weights or the
// input rounded to the dtype, the product rounded to it, cuBLAS reducing in the dtype): 2^-7 for
// bfloat16, 2^-9 for float16, and for float32 the accumulation order (TF32 when LibTorch allows
// it). Float16 adds its subnormal spacing: a product of a few tiny weights is not relative-exact.
at::Tensor quant_gpu_tolerance(const at::Tensor& magnitude, at::ScalarType dtype) {
  if (dtype == at::kBFloat16) return magnitude * std::ldexp(1.0, -7) + 1e-30;
  if (dtype == at::kHalf) return magnitude * std::ldexp(1.0, -9) + std::ldexp(1.0, -23);
  return magnitude * (at::globalContext().allowTF32CuBLAS() ? std::ldexp(1.0, -9) : std::ldexp(1.0, -14)) + 1e-30;
}

// Checks y (n, rows) on the device against reference (n, rows) in double, entry by entry within
// `tolerance` (n, rows); fails with the worst entry.
void quant_gpu_expect_within(const at::Tensor& y, const at::Tensor& reference, const at::Tensor& tolerance,
                             const std::string& what) {
  const at::Tensor error = (y.to(at::kCPU).to(at::kDouble) - reference).abs();
  const at::Tensor excess = error - tolerance;
  const int64_t worst = excess.flatten().argmax().item<int64_t>();
  const int64_t rows = reference.size(1);
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << what << ": entry (" << worst / rows << ", " << worst % rows << ") is "
      << y.to(at::kCPU).to(at::kDouble).flatten()[worst].item<double>() << ", reference "
      << reference.flatten()[worst].item<double>() << ", tolerance " << tolerance.flatten()[worst].item<double>();
}

std::vector<int64_t> quant_gpu_cols(WeightFormat f) {
  const int64_t block = traits(f).block_elements;
  return {block, 2 * block, 4096};
}

TEST_F(QuantKernelsGpu, KernelsAreRegisteredForTheBuild) {
#ifdef MLSPEED_QUANT_CUDA_KERNELS
  EXPECT_EQ(quant::path_name(gpu, 1, KernelSet::mlspeed), "cuda-gemv");
  EXPECT_EQ(quant::path_name(gpu, 64, KernelSet::mlspeed), "cuda-dequantize+matmul") << "a prompt";
  EXPECT_EQ(quant::path_name(gpu, 1, KernelSet::libtorch), "dequantize+matmul");
#else
  GTEST_SKIP() << "built without a CUDA compiler: LibTorch ops dequantise";
#endif
}

TEST_F(QuantKernelsGpu, EveryFormatShapeAndDtypeMatchesTheFloat64Reference) {
  const std::vector<int64_t> counts = {1, 3, 8, 9, 64};
  for (WeightFormat f : kAllWeightFormats) {
    for (int64_t rows : {int64_t{37}, int64_t{4096}}) {
      for (int64_t cols : quant_gpu_cols(f)) {
        const quant::QuantizedMatrix cpu = quant_gpu_random_matrix(f, rows, cols, static_cast<uint64_t>(rows + cols));
        const quant::QuantizedMatrix w{f, rows, cols, cpu.blocks.to(gpu)};
        const at::Tensor dense = quant_gpu_reference_values(cpu);
        const at::Tensor x = quant_gpu_exact_inputs(counts.back(), cols, static_cast<uint64_t>(cols));
        const at::Tensor reference = at::matmul(x.to(at::kDouble), dense.t());
        const at::Tensor magnitude = at::matmul(x.to(at::kDouble).abs(), dense.abs().t());
        for (int64_t n : counts) {
          for (at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
            const std::string what = std::string(name(f)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                                     " n=" + std::to_string(n) + " " + c10::toString(dtype);
            const at::Tensor y = quant::linear(x.narrow(0, 0, n).to(gpu, dtype), w);
            ASSERT_EQ(y.scalar_type(), dtype) << what;
            ASSERT_EQ(y.sizes(), at::IntArrayRef({n, rows})) << what;
            const at::Tensor tolerance = quant_gpu_tolerance(magnitude.narrow(0, 0, n), dtype);
            quant_gpu_expect_within(y, reference.narrow(0, 0, n), tolerance, what);
            if (HasFailure()) return;
          }
        }
      }
    }
  }
}

// Gaussian inputs do not quantise exactly: each value is within max|x| / 254 of its run of 32
// (quant/cpu_kernels.h's bound, llama.cpp's q8_1), so the product is within sum |w| times that.
TEST_F(QuantKernelsGpu, GaussianInputsStayWithinTheInt8InputBound) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(5);
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q4_0, WeightFormat::q4_k, WeightFormat::q6_k}) {
    const int64_t rows = 37, cols = 1024;
    const quant::QuantizedMatrix cpu = quant_gpu_random_matrix(f, rows, cols, 9);
    const quant::QuantizedMatrix w{f, rows, cols, cpu.blocks.to(gpu)};
    const at::Tensor dense = quant_gpu_reference_values(cpu);
    for (int64_t n : {1, 3, 8}) {
      for (at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
        const at::Tensor x = at::randn({n, cols}, generator).to(dtype);  // rounded once, the reference too
        const at::Tensor xd = x.to(at::kDouble);
        const at::Tensor run_max = xd.abs().view({n, cols / 32, 32}).amax(-1, true).expand({n, cols / 32, 32});
        const at::Tensor bound = at::matmul(run_max.reshape({n, cols}), dense.abs().t()) / 254;
        const at::Tensor tolerance = quant_gpu_tolerance(at::matmul(xd.abs(), dense.abs().t()), dtype) + bound;
        const std::string what = std::string(name(f)) + " n=" + std::to_string(n) + " " + c10::toString(dtype);
        quant_gpu_expect_within(quant::linear(x.to(gpu), w), at::matmul(xd, dense.t()), tolerance, what);
      }
    }
  }
}

// Rows 1.. of a matrix start one row in: at an odd multiple of 2 bytes for q4_0, q8_0 and q6_k.
// Inputs: a column slice of a wider tensor, a transposed one, and a 3-D batch.
TEST_F(QuantKernelsGpu, RowViewsAndStridedInputsGiveTheSameProducts) {
  for (WeightFormat f : kAllWeightFormats) {
    const int64_t rows = 38, cols = 2 * traits(f).block_elements * (traits(f).block_elements == 1 ? 32 : 4);
    const quant::QuantizedMatrix cpu = quant_gpu_random_matrix(f, rows, cols, 4);
    const quant::QuantizedMatrix w = quant::QuantizedMatrix{f, rows, cols, cpu.blocks.to(gpu)}.narrow_rows(1, rows - 1);
    const at::Tensor dense = quant_gpu_reference_values(cpu).narrow(0, 1, rows - 1);
    for (int64_t n : {2, 6, 12}) {
      const at::Tensor x = quant_gpu_exact_inputs(n, cols, 8);
      const at::Tensor reference = at::matmul(x.to(at::kDouble), dense.t());
      const at::Tensor tolerance = quant_gpu_tolerance(at::matmul(x.to(at::kDouble).abs(), dense.abs().t()), at::kFloat);
      const at::Tensor slice = at::cat({x, x}, 1).to(gpu).narrow(1, cols, cols);  // row stride 2 cols, an offset
      const at::Tensor transposed = x.t().contiguous().to(gpu).t();              // column stride n
      const std::string what = std::string(name(f)) + " n=" + std::to_string(n);
      quant_gpu_expect_within(quant::linear(slice, w), reference, tolerance, what + " column slice");
      quant_gpu_expect_within(quant::linear(transposed, w), reference, tolerance, what + " transposed");
      const at::Tensor batched = quant::linear(x.to(gpu).view({1, n, cols}), w);
      ASSERT_EQ(batched.sizes(), at::IntArrayRef({1, n, rows - 1})) << what;
      quant_gpu_expect_within(batched.view({n, rows - 1}), reference, tolerance, what + " 3-D");
    }
  }
}

// The products read rows that start on 16-byte boundaries as 16-byte chunks and other rows as
// 32-bit words (quant/cuda/quant_gemv.cu): the same weights, so the same bits. The blocks moved 4
// bytes off the boundary take the word reads for every format (a q4_k row, 144 bytes a block, is
// otherwise always aligned).
TEST_F(QuantKernelsGpu, BlocksOffA16ByteBoundaryGiveTheSameBits) {
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q4_0, WeightFormat::q4_k, WeightFormat::q6_k}) {
    const int64_t rows = 70, cols = 4096;
    const quant::QuantizedMatrix cpu = quant_gpu_random_matrix(f, rows, cols, 6);
    const quant::QuantizedMatrix aligned{f, rows, cols, cpu.blocks.to(gpu)};
    const int64_t bytes = cpu.blocks.numel();
    const at::Tensor shifted =
        at::empty({bytes + 16}, cpu.blocks.options().device(gpu)).narrow(0, 4, bytes).view(cpu.blocks.sizes());
    shifted.copy_(aligned.blocks);
    const quant::QuantizedMatrix off{f, rows, cols, shifted};
    ASSERT_NE(reinterpret_cast<uintptr_t>(off.blocks.data_ptr()) % 16, 0u);
    for (int64_t n : {1, 2, 5}) {
      const at::Tensor x = quant_gpu_exact_inputs(n, cols, 3).to(gpu, at::kBFloat16);
      EXPECT_TRUE(at::equal(quant::linear(x, off).cpu(), quant::linear(x, aligned).cpu()))
          << name(f) << " n=" << n;
    }
  }
}

// A step recorded in a CUDA graph reads its input's memory at every replay: new values in the same
// tensor give the product of the new values, as an eager call does (bit for bit for the
// matrix-vector kernels, which have one order of summation; cuBLAS may pick another algorithm).
TEST_F(QuantKernelsGpu, TheProductRecordsInACudaGraph) {
  if (const auto why = graphs_unavailable(gpu)) GTEST_SKIP() << *why;
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q4_0, WeightFormat::q4_k, WeightFormat::q6_k, WeightFormat::bf16}) {
    const int64_t rows = 300, cols = 1024;
    const quant::QuantizedMatrix w{f, rows, cols, quant_gpu_random_matrix(f, rows, cols, 2).blocks.to(gpu)};
    for (int64_t n : {1, 8, 9}) {
      const std::string what = std::string(name(f)) + " n=" + std::to_string(n);
      at::Tensor x = quant_gpu_exact_inputs(n, cols, 1).to(gpu, at::kBFloat16);
      at::Tensor y;
      const std::function<void()> step = [&] { y = quant::linear(x, w); };
      auto recorder = make_graph_recorder(gpu);
      recorder->warm_up(step);
      const std::unique_ptr<Graph> graph = recorder->record(step);
      x.copy_(quant_gpu_exact_inputs(n, cols, 2).to(gpu, at::kBFloat16));
      graph->replay();
      const at::Tensor replayed = y.to(at::kCPU);
      const at::Tensor eager = quant::linear(x, w).to(at::kCPU);
      if (n <= 8 && traits(f).quantized)
        EXPECT_TRUE(at::equal(replayed, eager)) << what;
      else
        EXPECT_TRUE(at::allclose(replayed.to(at::kFloat), eager.to(at::kFloat), 1e-2, 1e-3)) << what;
    }
  }
}

// Not a check: prints the rate at which the product reads the weights, to set beside the device's
// copy bandwidth (mlspeed's device facts). 20 products recorded in a CUDA graph, so that launches
// cost nothing, each on the next of enough copies of the matrix to fill 256 MB: every product reads
// its weights from memory, not from the L2 cache (50 MB on an H100, 60 on an H200), as a decode
// step does. Llama-2-7B's shapes: a 4096 x 4096 projection, q, k and v together, gate and up
// together, down, and the output layer (q6_k in llama.cpp's files).
TEST_F(QuantKernelsGpu, ReportsTheWeightBandwidthOfTheProduct) {
  if (const auto why = graphs_unavailable(gpu)) GTEST_SKIP() << *why;
  constexpr int kCalls = 20;
  constexpr double kBytesRead = 256e6;
  const std::vector<std::pair<int64_t, int64_t>> shapes{{4096, 4096}, {12288, 4096}, {22016, 4096}, {4096, 11008}};
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q4_0, WeightFormat::q4_k, WeightFormat::q6_k}) {
    std::vector<std::pair<int64_t, int64_t>> these = shapes;
    if (f == WeightFormat::q6_k) these.emplace_back(32000, 4096);
    for (const auto& [rows, cols] : these) {
      const at::Tensor blocks = quant_gpu_random_matrix(f, rows, cols, 3).blocks.to(gpu);
      const double bytes = static_cast<double>(blocks.numel());
      std::vector<quant::QuantizedMatrix> copies;
      for (int c = 0; c < std::max(2, static_cast<int>(std::ceil(kBytesRead / bytes))); ++c)
        copies.push_back({f, rows, cols, blocks.clone()});
      for (int64_t n : {1, 8}) {
        const at::Tensor x = quant_gpu_exact_inputs(n, cols, 4).to(gpu, at::kBFloat16);
        at::Tensor y;
        const std::function<void()> step = [&] {
          for (int i = 0; i < kCalls; ++i) y = quant::linear(x, copies[i % copies.size()]);
        };
        auto recorder = make_graph_recorder(gpu);
        recorder->warm_up(step);
        const std::unique_ptr<Graph> graph = recorder->record(step);
        graph->replay();
        synchronize(gpu);
        auto timer = make_timer(gpu);
        timer->start();
        graph->replay();
        const double us = timer->stop_ms() * 1e3 / kCalls;
        std::printf("[ rate     ] %-4s %5ld x %5ld  n=%ld  %8.2f us  %7.1f GB/s of weights\n", std::string(name(f)).c_str(),
                    static_cast<long>(rows), static_cast<long>(cols), static_cast<long>(n), us, bytes / us * 1e-3);
      }
    }
  }
}

}  // namespace
}  // namespace mlspeed
