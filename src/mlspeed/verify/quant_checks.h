// The op level's checks of the quantised-weight path (quant/quantized_matrix.h): quant::linear
// for every weight format of core/weight_format.h, against float64 on the CPU of the reference
// decoder (blocks.h's scalar dequantize_row) followed by the matrix product. One op,
// "quant_linear", whose variant is the weight format.
//
// Shapes: output rows and input columns that are no multiple of any tile (67 rows: 4 x 16 + 3,
// against the kernels' 1, 2 or 4 rows per warp or loop; an odd number of blocks per row: 3 K-quant
// super-blocks, 23 blocks of 32, 739 plain columns), and the input rows that decide the path: 1
// (decoding: the CPU's and CUDA's int8-activation kernels) and 512 (a prompt: dequantise, then
// LibTorch's product); the default suite adds 3, 8 (the last row count of the kernels) and 9 (the
// first past them), and a medium class at Llama-2-7B's 11008 columns.
//
// The weights are quantised from float32 values whose size varies from one group of 16 columns
// to the next (log-normal, as real weights' channels do): every block and sub-block then has a
// scale of its own, so a kernel that reads another one's is seen. The inputs are uniform in
// [-1, 1] in the tested dtype.
//
// Tolerance, from what each path documents, never from what it was seen to do:
//   * every path: the matrix product in the tested dtype over K = cols terms
//     (compare.h's tolerance_for, reduction): the dequantisation itself is exact
//     (quantized_matrix.h: ggml's values computed in float32), so the dequantise + matmul path
//     is held to fp32's product tolerance and nothing more;
//   * the int8-activation kernels (quant::path_name: cpu-*, cuda-gemv; quantised formats only)
//     add cpu_kernels.h's bound, sum_c |W[r][c]| max|x| / 254 with max|x| over the input's
//     quantisation run (32 values for q8_0 and q4_0, 256 for q4_k and q6_k; CUDA's runs of 32
//     lie within those), as an absolute term: its largest value over the outputs, computed in
//     float64 from the reference weights and the input.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlspeed/core/weight_format.h"
#include "mlspeed/quant/quantized_matrix.h"
#include "mlspeed/verify/check.h"
#include "mlspeed/verify/compare.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {

inline constexpr const char* kQuantLinearOp = "quant_linear";
// quant::dequantize (the LibTorch-op decoder that the other devices' products and gather_rows
// use) against blocks.h's decoder: equal exactly, in float32 and rounded to bf16 or fp16.
inline constexpr const char* kQuantDequantizeOp = "quant_dequantize";

struct QuantCase {
  WeightFormat format = WeightFormat::q4_0;
  int64_t rows = 0, cols = 0, batch = 0;  // W (rows, cols); x (batch, cols)
  std::string size_class = "small";
  bool quick = false;  // in --quick (the quick dtypes and layouts of op_suite.h apply too)
};

std::vector<QuantCase> quant_cases();
// The dtypes and layouts (of x) each case supports.
const std::vector<std::string>& quant_dtypes();
const std::vector<std::string>& quant_layouts();

// The rows of one case: one forward row per dtype and layout asked for.
void run_quant_case(const Target& target, const QuantCase& c, const std::vector<std::string>& dtypes,
                    const std::vector<std::string>& layouts, uint64_t seed,
                    const std::function<void(CheckResult)>& emit);

// The quant_dequantize row of each dtype asked for, for a matrix of the case's shape.
void run_dequantize_case(const Target& target, const QuantCase& c, const std::vector<std::string>& dtypes,
                         uint64_t seed, const std::function<void(CheckResult)>& emit);

// The matrix decoded by blocks.h's scalar reference (never the code under test), float32 on the CPU.
at::Tensor reference_dequantize(const quant::QuantizedMatrix& w);

// cpu_kernels.h's bound for y = x W^T through int8 activations: max over (v, r) of
// sum_c |W[r][c]| max|x[v][run(c)]| / 254 (float64; `run` the input's quantisation run).
double int8_activation_bound(const at::Tensor& weight, const at::Tensor& x, int64_t run);
// The tolerance of quant::linear on `path` (quant::path_name) for weights `reference_weight`
// (rows, cols) of `format` and input `x` (both float64 on the CPU, x rounded to `dtype`).
Tolerance quant_linear_tolerance(WeightFormat format, at::ScalarType dtype, const std::string& path,
                                 const at::Tensor& reference_weight, const at::Tensor& x);

}  // namespace mlspeed::verify
