// The op level's checks of the quantised-weight path (quant_checks.h) and the faults they must
// catch (quant_faults.h): each rewrite is the misread it stands for (decoded against a scalar
// misread written here from ggml's block layout), the hook applies it inside the scope only and
// exactly once, the checks pass on a healthy CPU across seeds, and each fault fails them by a wide
// margin over the tolerance (printed: worst element's error over its tolerance, share of elements off).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <set>
#include <thread>

#include "mlspeed/quant/blocks.h"
#include "mlspeed/quant/cpu_kernels.h"
#include "mlspeed/verify/faults.h"
#include "mlspeed/verify/op_suite.h"
#include "mlspeed/verify/quant_checks.h"
#include "mlspeed/verify/quant_faults.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {
namespace {

using quant::QuantizedMatrix;

Target quant_op_cpu_target(const std::string& fault = "") {
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  return make_target(cpu, fault);
}

OpSuiteOptions quick_quant(uint64_t seed = 0) {
  OpSuiteOptions o;
  o.quick = true;
  o.seed = seed;
  o.ops = {kQuantLinearOp, kQuantDequantizeOp};
  return o;
}

QuantizedMatrix random_matrix(WeightFormat f, int64_t rows, int64_t cols, uint64_t seed = 3) {
  at::manual_seed(seed);
  // Column groups of different sizes: every sub-block gets a scale of its own.
  const at::Tensor dense = at::randn({rows, cols}) * at::exp(at::randn({rows, cols / 16}).repeat_interleave(16, 1));
  return quant::quantize(dense * 0.02, f, at::kCPU);
}

std::string quant_op_row_text(const CheckResult& r) { return r.check + " " + r.variant + " " + r.shape + ": " + r.message; }

TEST(QuantChecks, QuickRowsPassOnAHealthyCpuAcrossSeeds) {
  for (uint64_t seed = 0; seed < 6; ++seed) {
    const std::vector<CheckResult> rows = run_op_suite(quant_op_cpu_target(), quick_quant(seed), nullptr);
    ASSERT_EQ(rows.size(), 7u * 2 * 2 * 2 + 4 * 2) << "7 formats x batch 1, 512 x fp32, bf16 x 2 layouts; dequantize";
    for (const CheckResult& r : rows) EXPECT_EQ(r.outcome, Outcome::pass) << "seed " << seed << ": " << quant_op_row_text(r);
  }
}

TEST(QuantChecks, CoverEveryFormatBothPathsAndShapesOffEveryTile) {
  OpSuiteOptions o;
  o.ops = {kQuantLinearOp};
  o.dtypes = {"fp32"};
  o.layouts = {"contiguous"};
  o.size_classes = {"small"};
  std::set<std::string> formats, paths;
  for (const CheckResult& r : run_op_suite(quant_op_cpu_target(), o, nullptr)) {
    EXPECT_EQ(r.outcome, Outcome::pass) << quant_op_row_text(r);
    formats.insert(r.variant);
    paths.insert(r.message.substr(0, r.message.find(':')));
  }
  EXPECT_EQ(formats.size(), kAllWeightFormats.size());
  EXPECT_TRUE(paths.count("path dequantize+matmul")) << "512 input rows";
  EXPECT_TRUE(paths.count("path cpu-" + quant::cpu_kernel_isa())) << "1 input row";
  for (const QuantCase& c : quant_cases()) {
    EXPECT_NE(c.rows % 2, 0) << "rows must leave a remainder of every row tile";
    const int64_t blocks = c.cols / traits(c.format).block_elements;
    EXPECT_NE(blocks % 2, 0) << name(c.format) << ": an odd number of blocks per row";
  }
}

TEST(QuantChecks, TheGemvToleranceIsCpuKernelsBound) {
  // Two rows of 4 inputs in runs of 2: max|x| per run (1, 3) and (0.5, 2).
  const at::Tensor w = at::tensor({1.0, -2.0, 0.5, 0.0, 0.0, 1.0, -1.0, 3.0}, at::kDouble).view({2, 4});
  const at::Tensor x = at::tensor({1.0, -0.5, 3.0, 2.0, 0.5, 0.25, -2.0, 1.0}, at::kDouble).view({2, 4});
  // The four sums of |W[r]| times the runs' max|x[v]|: (v0, r0) 1 + 2 + 1.5 + 0 = 4.5, (v0, r1)
  // 0 + 1 + 3 + 9 = 13, (v1, r0) 0.5 + 1 + 1 + 0 = 2.5, (v1, r1) 0 + 0.5 + 2 + 6 = 8.5.
  EXPECT_DOUBLE_EQ(int8_activation_bound(w, x, 2), 13.0 / 254);
  const at::Tensor weight = at::randn({5, 64}, at::kDouble), input = at::rand({1, 64}, at::kDouble);
  const Tolerance product = tolerance_for(at::kFloat, false, OpFamily::reduction, 64);
  const Tolerance gemv = quant_linear_tolerance(WeightFormat::q4_0, at::kFloat, "cpu-avx2", weight, input);
  EXPECT_DOUBLE_EQ(gemv.atol, product.atol + int8_activation_bound(weight, input, 32));
  EXPECT_DOUBLE_EQ(gemv.rtol, product.rtol);
  EXPECT_DOUBLE_EQ(quant_linear_tolerance(WeightFormat::q4_0, at::kFloat, "dequantize+matmul", weight, input).atol,
                   product.atol) << "the dequantisation is exact: only the product's rounding";
  EXPECT_DOUBLE_EQ(quant_linear_tolerance(WeightFormat::f16, at::kFloat, "cpu-avx2", weight, input).atol, product.atol)
      << "plain formats multiply in float";
}

// --- the rewrites are the misreads ---------------------------------------------------------------

uint16_t bits_at(const QuantizedMatrix& w, int64_t offset) {
  uint16_t v;
  std::memcpy(&v, w.blocks.data_ptr<uint8_t>() + offset, 2);
  return v;
}

TEST(QuantFaults, NibblesSwappedIsElementJReadFromTheOtherNibble) {
  const QuantizedMatrix w = random_matrix(WeightFormat::q4_0, 3, 64);
  const at::Tensor got = reference_dequantize(swap_nibbles(w));
  const uint8_t* b = w.blocks.data_ptr<uint8_t>();
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t k = 0; k < 2; ++k) {
      const uint8_t* block = b + r * 36 + k * 18;
      const float d = quant::half_to_float(bits_at(w, r * 36 + k * 18));
      for (int j = 0; j < 16; ++j) {
        EXPECT_EQ(got[r][k * 32 + j].item<float>(), ((block[2 + j] >> 4) - 8) * d);
        EXPECT_EQ(got[r][k * 32 + j + 16].item<float>(), ((block[2 + j] & 15) - 8) * d);
      }
    }
}

TEST(QuantFaults, ScaleAsBf16IsTheScalesBitsReadAsBfloat16) {
  QuantizedMatrix w = random_matrix(WeightFormat::q8_0, 1, 32);
  const uint16_t bits = 0x3F00;  // fp16 1.75; bf16 0.5, an fp16 normal: the rewrite is exact
  std::memcpy(w.blocks.data_ptr<uint8_t>(), &bits, 2);
  const at::Tensor got = reference_dequantize(scales_read_as_bf16(w));
  const int8_t* q = reinterpret_cast<const int8_t*>(w.blocks.data_ptr<uint8_t>() + 2);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(got[0][j].item<float>(), q[j] * quant::bf16_to_float(bits));
  // Typical scales read as bfloat16 are ~1e-20 of themselves: the products vanish.
  const QuantizedMatrix typical = random_matrix(WeightFormat::q4_k, 2, 256);
  EXPECT_LT(reference_dequantize(scales_read_as_bf16(typical)).abs().max().item<float>(), 1e-6);
}

TEST(QuantFaults, SubblockShiftDecodesSubblockJWithTheNextOnesScale) {
  const QuantizedMatrix w6 = random_matrix(WeightFormat::q6_k, 1, 256);
  const at::Tensor right6 = reference_dequantize(w6), got6 = reference_dequantize(next_subblock_scales(w6));
  const int8_t* scales = reinterpret_cast<const int8_t*>(w6.blocks.data_ptr<uint8_t>() + 192);
  for (int i = 0; i < 256; ++i) {
    const int j = i / 16, next = (j + 1) % 16;
    if (scales[j] == 0) continue;
    const double expected = double(right6[0][i].item<float>()) / scales[j] * scales[next];
    EXPECT_NEAR(got6[0][i].item<float>(), expected, 1e-6 * std::abs(expected)) << "element " << i;
  }
  // Q4_K: sub-block j's (scale, min) pair, unpacked by block_layout.h's rule, is j + 1's.
  const QuantizedMatrix w4 = random_matrix(WeightFormat::q4_k, 1, 256);
  const QuantizedMatrix shifted = next_subblock_scales(w4);
  const uint8_t* before = w4.blocks.data_ptr<uint8_t>() + 4;
  const uint8_t* after = shifted.blocks.data_ptr<uint8_t>() + 4;
  const auto scale_min = [](int j, const uint8_t* s) {
    return j < 4 ? std::make_pair(s[j] & 63, s[j + 4] & 63)
                 : std::make_pair((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  };
  for (int j = 0; j < 8; ++j) EXPECT_EQ(scale_min(j, after), scale_min((j + 1) % 8, before)) << "sub-block " << j;
  EXPECT_EQ(std::memcmp(shifted.blocks.data_ptr<uint8_t>() + 16, w4.blocks.data_ptr<uint8_t>() + 16, 128), 0);
}

TEST(QuantFaults, BlockOffsetReadsTheNextBlockAndTheNextRowsFirst) {
  const QuantizedMatrix w = random_matrix(WeightFormat::q4_k, 3, 512);  // 2 super-blocks a row
  const at::Tensor right = reference_dequantize(w), got = reference_dequantize(next_block(w));
  EXPECT_TRUE(got[0].narrow(0, 0, 256).equal(right[0].narrow(0, 256, 256)));  // block 0 reads block 1
  EXPECT_TRUE(got[0].narrow(0, 256, 256).equal(right[1].narrow(0, 0, 256)));  // the last, row 1's first
  EXPECT_TRUE(got[2].narrow(0, 256, 256).equal(right[0].narrow(0, 0, 256)));  // the very last wraps
}

TEST(QuantFaults, OnlyTheFormatsAFaultConcernsChange) {
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q6_k})
    EXPECT_TRUE(swap_nibbles(random_matrix(f, 2, 256)).blocks.equal(random_matrix(f, 2, 256).blocks)) << name(f);
  for (WeightFormat f : {WeightFormat::q8_0, WeightFormat::q4_0})
    EXPECT_TRUE(next_subblock_scales(random_matrix(f, 2, 256)).blocks.equal(random_matrix(f, 2, 256).blocks));
}

// --- the hook ------------------------------------------------------------------------------------

TEST(QuantFaults, TheHookActsInsideTheScopeOnlyOnTheThreadAndExactlyOnce) {
  const QuantizedMatrix w = random_matrix(WeightFormat::q4_0, 6, 64);
  const at::Tensor healthy = reference_dequantize(w), swapped = reference_dequantize(swap_nibbles(w));
  const at::Tensor x = at::rand({512, 64}) - 0.5;
  const at::Tensor ids = at::tensor({4, 1}, at::kLong);
  const at::Tensor shifted = reference_dequantize(next_block(w)).index_select(0, ids);
  {
    DeviceScope scope(quant_op_cpu_target("quant-nibbles-swapped"));
    // Once, not twice (a second swap would undo the first) and not zero times.
    EXPECT_TRUE(quant::dequantize(w, at::kFloat).equal(swapped));
    EXPECT_TRUE(at::allclose(quant::linear(x, w), x.matmul(swapped.t()), 1e-4, 1e-4)) << "dequantise + matmul";
    EXPECT_TRUE(reference_dequantize(w).equal(healthy)) << "blocks.h's decoder is the reference: never hooked";
    at::Tensor other_thread;
    std::thread([&] { other_thread = quant::dequantize(w, at::kFloat); }).join();
    EXPECT_TRUE(other_thread.equal(healthy)) << "the fault is this thread's";
  }
  EXPECT_TRUE(quant::dequantize(w, at::kFloat).equal(healthy)) << "the fault outlived its scope";
  {
    DeviceScope scope(quant_op_cpu_target("quant-block-offset"));
    // gather_rows applies it to the whole table, then dequantises the rows it picked (nested: as they are).
    EXPECT_TRUE(quant::gather_rows(w, ids, at::kFloat).equal(shifted));
  }
}

// --- caught, and by how much -------------------------------------------------------------------

bool op_fault_concerns(const std::string& fault, const std::string& format) {
  if (fault == "quant-nibbles-swapped") return format == "q4_0" || format == "q4_k";
  if (fault == "quant-kquant-subblock-scale-shifted") return format == "q4_k" || format == "q6_k";
  return format == "q8_0" || format == "q4_0" || format == "q4_k" || format == "q6_k";
}

TEST(QuantFaults, EachIsCaughtByTheQuickRowsWithAWideMargin) {
  OpSuiteOptions o = quick_quant();
  o.dtypes = {"fp32"};
  o.layouts = {"contiguous"};
  for (const BlocksFaultImpl& impl : blocks_faults()) {
    const std::string& fault = impl.fault.name;
    for (const CheckResult& r : run_op_suite(quant_op_cpu_target(fault), o, nullptr)) {
      if (!op_fault_concerns(fault, r.variant)) {
        EXPECT_EQ(r.outcome, Outcome::pass) << fault << ": " << quant_op_row_text(r);
        continue;
      }
      ASSERT_EQ(r.outcome, Outcome::fail) << fault << " not caught: " << quant_op_row_text(r);
      EXPECT_GT(*r.mismatch_fraction, 0.5) << fault << ": " << quant_op_row_text(r);
      if (r.check == kQuantDequantizeOp) {  // exact: any difference fails; the size of the largest
        std::cout << fault << " " << r.check << " " << r.variant << ": up to " << *r.max_abs_error
                  << " off against a tolerance of 0, " << 100 * *r.mismatch_fraction << "% of elements\n";
        continue;
      }
      const bool gemv = r.message.rfind("path cpu-", 0) == 0;
      std::cout << fault << " " << r.variant << " " << r.shape.substr(0, r.shape.find(',')) << ": " << *r.error_ratio
                << " x the tolerance, " << 100 * *r.mismatch_fraction << "% of elements off\n";
      EXPECT_GE(*r.error_ratio, gemv ? 10.0 : 1000.0) << fault << ": " << quant_op_row_text(r);
    }
  }
}

}  // namespace
}  // namespace mlspeed::verify
