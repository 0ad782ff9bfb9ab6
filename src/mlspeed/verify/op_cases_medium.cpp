// The medium size class: rows of 1K-16K elements and matrices of 1K-4K. The small class stops at
// rows of 64, and kernels take another path past ~1024 elements a row (one block per row, a
// split or vectorised reduction, a blocked product): BUGS S7's softmax returned NaN over rows of
// 12,416 and was right below. The long-row cases cost milliseconds and are marked `quick`, so
// --quick catches that class; the products are in the default classes only.
#include <ATen/ATen.h>

#include "mlspeed/verify/op_engine.h"
#include "mlspeed/verify/op_inputs.h"

namespace mlspeed::verify {
namespace {

std::string rows_by_cols(int64_t rows, int64_t cols) { return std::to_string(rows) + "x" + std::to_string(cols); }

// softmax, log_softmax or layer_norm over `rows` rows of `width` elements. Softmax is scaled by
// the width, so its outputs are O(1) and a kernel returning zeros cannot hide under atol.
OpCase long_rows(const std::string& op, int64_t rows, int64_t width, bool quick) {
  OpCase c;
  c.op = op;
  c.variant = "rows of " + std::to_string(width);
  c.size_class = "medium";
  c.quick = quick;
  c.shape = rows_by_cols(rows, width);
  c.dtypes = kFloat;
  c.layouts = {"contiguous", "transposed"};
  c.family = OpFamily::reduction;
  c.reduction_size = width;
  c.backward_reduction_size = width;
  c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
    if (op != "layer_norm") return Tensors{values(gen, {rows, width}, dtype, 2.0)};
    return Tensors{values(gen, {rows, width}, dtype), uniform(gen, {width}, dtype, 0.5, 1.5),
                   values(gen, {width}, dtype, 0.1)};
  };
  const double scale = static_cast<double>(width);
  c.compute = [=](const Tensors& in) {
    if (op == "softmax") return at::softmax(in[0], 1) * scale;
    if (op == "log_softmax") return at::log_softmax(in[0], 1);
    return at::layer_norm(in[0], {width}, in[1], in[2], 1e-5);
  };
  return c;
}

// Products of 1K-4K matrices: square (a blocked kernel's tiles and their edges), and a
// decode-shaped one, 8 rows through K = 4096 (a split-K or GEMV path). Forward only: the
// gradients of a 1024 square product take seconds on a laptop CPU, and are products of the
// transposed operands, which the transposed layout runs forward.
std::vector<OpCase> products() {
  OpCase mm;
  mm.op = "mm";
  mm.variant = "1024 square";
  mm.size_class = "medium";
  mm.shape = "1024x1024 @ 1024x1024";
  mm.dtypes = {"fp32", "tf32", "fp16", "bf16"};
  mm.layouts = {"contiguous", "transposed"};
  mm.family = OpFamily::reduction;
  mm.reduction_size = 1024;
  mm.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {1024, 1024}, dtype), values(gen, {1024, 1024}, dtype, 1 / 32.0)};
  };
  mm.layout_inputs = {0, 1};
  mm.compute = [](const Tensors& in) { return at::mm(in[0], in[1]); };

  OpCase linear;
  linear.op = "linear";
  linear.variant = "K 4096";
  linear.size_class = "medium";
  linear.shape = "8x4096 @ 1024x4096^T + 1024";
  linear.dtypes = {"fp32", "tf32", "fp16", "bf16"};
  linear.layouts = {"contiguous"};
  linear.family = OpFamily::reduction;
  linear.reduction_size = 4097;
  linear.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {8, 4096}, dtype), values(gen, {1024, 4096}, dtype, 1 / 64.0),
                   values(gen, {1024}, dtype)};
  };
  linear.compute = [](const Tensors& in) { return at::linear(in[0], in[1], in[2]); };
  return {mm, linear};
}

}  // namespace

std::vector<OpCase> medium_cases() {
  std::vector<OpCase> cases;
  // --quick takes rows of 1025 and 12,416, layer_norm over 4096 and the row reductions: about
  // 0.7 s on a 2-core laptop CPU, against ~2.5 s for the rest of the quick set.
  // Just past 1024, past 4096, and BUGS S7's 12,416.
  for (const char* op : {"softmax", "log_softmax"})
    for (const int64_t width : {1025, 4097, 12416}) cases.push_back(long_rows(op, 4, width, width != 4097));
  // A transformer's hidden widths.
  for (const int64_t width : {1025, 4096}) cases.push_back(long_rows("layer_norm", 8, width, width == 4096));
  for (OpCase& c : products()) cases.push_back(std::move(c));
  for (const char* op : {"sum", "cumsum", "argmax"}) {
    // No bf16 cumsum here: its output is rounded to bf16 at every position and a device scan
    // carries its block sums in that dtype, so an element's error follows the running sum
    // (~sqrt(K)), not its own value, and a healthy H200 is off by 17x an element-wise tolerance.
    // bf16 cumsum is checked at K = 64 (small); fp32 and the integers are checked here.
    const bool cumsum = std::string(op) == "cumsum";
    OpCase c = reduction_case(op, {8, 16384}, "medium",
                              cumsum ? std::vector<std::string>{"fp32", "int32", "int64"}
                                     : std::vector<std::string>{"fp32", "bf16", "int32", "int64"});
    c.quick = true;
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace mlspeed::verify
