// The op suite's data-movement and reduction cases (indexing, scatter, cat, cumsum, reductions on
// every integer type and bool, argmax with ties, topk), and the boundary size class: sizes that
// cross 2^15 / 2^16 index boundaries cheaply. Integer and bool references go through float64
// (through_float64), so a CPU never checks its integer kernels against themselves.
#include <ATen/ATen.h>

#include "mlspeed/verify/op_engine.h"
#include "mlspeed/verify/op_inputs.h"

namespace mlspeed::verify {
namespace {

const std::vector<std::string> kFloatInt64{"fp32", "fp16", "bf16", "fp64", "int64"};
// Pure data movement: any dtype goes, bool included (an index kernel may mishandle 1-byte values).
const std::vector<std::string> kMoved{"fp32", "fp16", "bf16", "fp64", "int64", "bool"};

// index_select / embedding of a (rows, width) weight with `count` indices; the index covers the
// last rows, so a kernel that loses rows past an index boundary is seen.
OpCase gather_case(const std::string& op, int64_t rows, int64_t width, int64_t count, const std::string& size_class) {
  OpCase c;
  c.op = op;
  c.variant = size_class == "small" ? "" : std::to_string(rows * width) + " elements";
  c.size_class = size_class;
  c.shape = std::to_string(rows) + "x" + std::to_string(width) + ", " + std::to_string(count) + " indices";
  c.dtypes = size_class != "small" ? std::vector<std::string>{"fp32", "bf16"} : op == "embedding" ? kFloat : kMoved;
  c.layouts = size_class == "small" ? kNoBroadcast : std::vector<std::string>{"contiguous"};
  c.backward_reduction_size = op == "embedding" || size_class == "small" ? count : 1;
  c.family = OpFamily::elementwise;
  c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
    at::Tensor index = count <= rows ? at::randperm(rows, gen, at::kLong).narrow(0, 0, count).contiguous()
                                     : at::randint(0, rows, {count}, gen, at::kLong);
    index[0] = rows - 1;  // the last row always, past any boundary the weight crosses
    return Tensors{values(gen, {rows, width}, dtype), index};
  };
  c.compute = [=](const Tensors& in) {
    return op == "embedding" ? at::embedding(in[0], in[1]) : at::index_select(in[0], 0, in[1]);
  };
  c.exact_reference = through_float64(c.compute, {0});
  if (op == "index_select" && size_class == "small")
    c.compute_out = [](const Tensors& in, at::Tensor& out) { at::index_select_out(out, in[0], 0, in[1]); };
  return with_view_layouts(c);
}

// index_copy / index_add / scatter on self (the in-place forms on a view of a larger buffer).
// Scatter on self in the transposed layout is BUGS L3 (scatter_ after permute). Integer and bool
// references widen self and the source (inputs 0 and 2), never the index.
std::vector<OpCase> index_writes() {
  std::vector<OpCase> cases;
  OpCase copy;
  copy.op = "index_copy";
  copy.shape = "20x16, 8 rows";
  copy.dtypes = kMoved;
  copy.layouts = kNoBroadcast;
  copy.backward_reduction_size = 1;
  copy.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {20, 16}, dtype), at::randperm(20, gen, at::kLong).narrow(0, 0, 8).contiguous(),
                   values(gen, {8, 16}, dtype)};
  };
  copy.layout_inputs = {0, 2};
  copy.compute = [](const Tensors& in) { return in[0].index_copy(0, in[1], in[2]); };
  copy.compute_inplace = [](const Tensors& in) { in[0].index_copy_(0, in[1], in[2]); };
  copy.exact_reference = through_float64(copy.compute, {0, 2});
  cases.push_back(with_view_layouts(copy));

  OpCase add = copy;
  add.op = "index_add";
  add.shape = "20x16, 30 rows with repeats";
  add.dtypes = kFloatInt64;
  add.family = OpFamily::reduction;
  add.reduction_size = 30;
  add.backward_reduction_size = 30;
  add.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {20, 16}, dtype), at::randint(0, 20, {30}, gen, at::kLong), values(gen, {30, 16}, dtype)};
  };
  add.compute = [](const Tensors& in) { return in[0].index_add(0, in[1], in[2]); };
  add.compute_inplace = [](const Tensors& in) { in[0].index_add_(0, in[1], in[2]); };
  add.exact_reference = through_float64(add.compute, {0, 2});
  add.layouts = kNoBroadcast;
  cases.push_back(with_view_layouts(add));

  OpCase scatter = copy;
  scatter.op = "scatter";
  scatter.shape = "8x20x10, 6 per row along dim 2";
  scatter.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    // Distinct positions within each row: the result does not depend on write order.
    const at::Tensor index = at::rand({8, 20, 10}, gen, at::kDouble).argsort(-1, false).narrow(-1, 0, 6).contiguous();
    return Tensors{values(gen, {8, 20, 10}, dtype), index, values(gen, {8, 20, 6}, dtype)};
  };
  scatter.compute = [](const Tensors& in) { return in[0].scatter(2, in[1], in[2]); };
  scatter.compute_inplace = [](const Tensors& in) { in[0].scatter_(2, in[1], in[2]); };
  scatter.exact_reference = through_float64(scatter.compute, {0, 2});
  scatter.layouts = kNoBroadcast;
  cases.push_back(with_view_layouts(scatter));
  return cases;
}

OpCase cat_case(int64_t dim, Sizes a, Sizes b, const std::string& size_class) {
  OpCase c;
  c.op = "cat";
  c.variant = "dim " + std::to_string(dim);
  c.size_class = size_class;
  c.shape = std::to_string(a[0]) + "x" + std::to_string(a[1]) + " ++ " + std::to_string(b[0]) + "x" + std::to_string(b[1]);
  c.dtypes = size_class == "small" ? kAll : std::vector<std::string>{"fp32", "int64"};
  c.layouts = size_class == "small" ? kPlain : std::vector<std::string>{"contiguous"};
  c.backward_reduction_size = 1;
  c.inputs = [=](at::Generator& gen, at::ScalarType dtype) { return Tensors{values(gen, a, dtype), values(gen, b, dtype)}; };
  c.layout_inputs = {0, 1};
  c.compute = [=](const Tensors& in) { return at::cat({in[0], in[1]}, dim); };
  c.exact_reference = through_float64(c.compute, {0, 1});
  if (size_class == "small") c.compute_out = [=](const Tensors& in, at::Tensor& out) { at::cat_out(out, {in[0], in[1]}, dim); };
  return with_view_layouts(c);
}

}  // namespace

// Sum/cumsum of integers promote to int64, as the reference (the same op in float64, cast to the
// device's output dtype) is then.
OpCase reduction_case(const std::string& op, Sizes sizes, const std::string& size_class,
                      std::vector<std::string> dtypes) {
  OpCase c;
  c.op = op;
  c.size_class = size_class;
  c.shape = sizes.size() == 1 ? std::to_string(sizes[0]) : std::to_string(sizes[0]) + "x" + std::to_string(sizes[1]);
  c.variant = sizes.size() == 1 ? "all" : "last dim";
  c.dtypes = std::move(dtypes);
  // A 1-d input has no second dim to transpose.
  c.layouts = size_class != "small" ? std::vector<std::string>{"contiguous"}
              : sizes.size() == 1   ? std::vector<std::string>{"contiguous", "strided", "offset", "broadcast"}
                                    : kPlain;
  const int64_t k = sizes.back();
  const bool sums = op == "sum" || op == "cumsum";
  c.family = sums ? OpFamily::reduction : OpFamily::elementwise;
  c.reduction_size = sums ? k : 1;
  c.backward_reduction_size = op == "argmax" ? 0 : (sums ? k : 1);
  c.integer_output = op == "argmax";
  c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
    if (op == "argmax") return Tensors{ties(gen, sizes, dtype)};
    if (op == "prod" && at::isFloatingType(dtype))  // products of O(1) factors near 1 stay O(1)
      return Tensors{(at::rand(sizes, gen, at::kDouble) * 0.5 + 0.75).to(dtype)};
    return Tensors{values(gen, sizes, dtype)};
  };
  c.compute = [=](const Tensors& in) {
    const at::Tensor& x = in[0];
    if (op == "sum") return x.sum(-1);
    if (op == "cumsum") return x.cumsum(-1);
    if (op == "prod") return x.prod(-1);
    if (op == "max") return std::get<0>(x.max(-1));
    if (op == "min") return std::get<0>(x.min(-1));
    return x.argmax(-1);  // the first index of the maximum (ties on purpose)
  };
  // Integers and bools reduced in float64, never by the integer kernel under test.
  c.exact_reference = through_float64(c.compute, {0});
  if (op == "cumsum" && size_class == "small")
    c.compute_out = [](const Tensors& in, at::Tensor& out) { at::cumsum_out(out, in[0], -1); };
  return with_view_layouts(c);
}

std::vector<OpCase> data_movement_cases() {
  std::vector<OpCase> cases;
  cases.push_back(gather_case("embedding", 50, 16, 96, "small"));
  cases.push_back(gather_case("index_select", 50, 16, 20, "small"));
  for (OpCase& c : index_writes()) cases.push_back(std::move(c));
  cases.push_back(cat_case(0, {8, 16}, {5, 16}, "small"));
  cases.push_back(cat_case(1, {8, 16}, {8, 5}, "small"));
  // Integer and bool cumsum and reductions are exact (BUGS O3); argmax over ties must return the
  // first index, never garbage such as INT64_MIN (BUGS O4). Prod rows are short so that integer
  // products stay inside int64.
  cases.push_back(reduction_case("cumsum", {8, 64}, "small", kAll));
  cases.push_back(reduction_case("sum", {8, 64}, "small", kAll));
  cases.push_back(reduction_case("sum", {512}, "small", kAll));
  cases.push_back(reduction_case("prod", {8, 8}, "small", kAll));
  cases.push_back(reduction_case("max", {8, 64}, "small", kAll));
  cases.push_back(reduction_case("min", {8, 64}, "small", kAll));
  cases.push_back(reduction_case("argmax", {8, 64}, "small", kAll));

  OpCase topk;
  topk.op = "topk";
  topk.variant = "k 5";
  topk.shape = "8x64";
  topk.dtypes = {"fp32", "fp16", "bf16", "fp64", "int8", "uint8", "int16", "int32", "int64"};
  topk.layouts = kPlain;
  topk.inputs = [](at::Generator& gen, at::ScalarType dtype) { return Tensors{values(gen, {8, 64}, dtype, 1.0, 100)}; };
  // The values, then the input gathered at the indices: both must be the top 5, whatever the
  // order among ties.
  topk.compute = [](const Tensors& in) {
    const auto [top, index] = in[0].topk(5, -1);
    return at::cat({top, in[0].gather(-1, index)}, -1);
  };
  topk.exact_reference = through_float64(topk.compute, {0});
  cases.push_back(topk);
  return cases;
}

std::vector<OpCase> boundary_cases() {
  std::vector<OpCase> cases;
  // 2^16 + 1 rows: output rows on both sides of 2^16 and 2^17 elements (BUGS S2, S1 at small scale).
  cases.push_back(gather_case("index_select", 65537, 2, 65537, "boundary"));
  cases.push_back(gather_case("embedding", 16385, 4, 16385, "boundary"));
  cases.push_back(cat_case(0, {32768, 2}, {32769, 2}, "boundary"));
  for (const char* op : {"sum", "cumsum", "argmax"})
    cases.push_back(reduction_case(op, {65537}, "boundary", {"fp32", "int32", "int64"}));

  OpCase softmax;
  softmax.op = "softmax";
  softmax.variant = "row of 2^16+1";
  softmax.size_class = "boundary";
  softmax.shape = "2x65537";
  softmax.dtypes = {"fp32", "bf16"};
  softmax.layouts = {"contiguous"};
  softmax.family = OpFamily::reduction;
  softmax.reduction_size = 65537;
  softmax.backward_reduction_size = 65537;
  softmax.inputs = [](at::Generator& gen, at::ScalarType dtype) { return Tensors{values(gen, {2, 65537}, dtype, 2.0)}; };
  softmax.compute = [](const Tensors& in) { return at::softmax(in[0], 1) * 65537.0; };  // O(1) outputs
  cases.push_back(softmax);

  // Batch 2^16 + 1 for bmm (BUGS S3 gradients past batch 65536), 3-D linear with batch over
  // 65536 (S5), Linear(1, 32769) on (1025, 1) (S4), conv1d weight gradient over a minibatch of
  // 2^16 (S6), layer_norm over 2^16 + 1 rows, an mm with 2^15 + 1 rows.
  OpCase bmm;
  bmm.op = "bmm";
  bmm.variant = "batch 2^16+1";
  bmm.size_class = "boundary";
  bmm.shape = "65537x2x3 @ 65537x3x2";
  bmm.dtypes = {"fp32", "bf16"};
  bmm.layouts = {"contiguous", "transposed"};
  bmm.family = OpFamily::reduction;
  bmm.reduction_size = 3;
  bmm.backward_reduction_size = 3;
  bmm.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {65537, 2, 3}, dtype), values(gen, {65537, 3, 2}, dtype, 0.6)};
  };
  bmm.layout_inputs = {0, 1};
  bmm.compute = [](const Tensors& in) { return at::bmm(in[0], in[1]); };
  cases.push_back(bmm);

  OpCase linear3d;
  linear3d.op = "linear";
  linear3d.variant = "3d, batch 2^16+1";
  linear3d.size_class = "boundary";
  linear3d.shape = "65537x2x8 @ 4x8^T + 4";
  linear3d.dtypes = {"fp32", "bf16"};
  linear3d.layouts = {"contiguous"};
  linear3d.family = OpFamily::reduction;
  linear3d.reduction_size = 9;
  linear3d.backward_reduction_size = 131074;
  linear3d.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {65537, 2, 8}, dtype), values(gen, {4, 8}, dtype, 0.35), values(gen, {4}, dtype)};
  };
  linear3d.compute = [](const Tensors& in) { return at::linear(in[0], in[1], in[2]); };
  cases.push_back(linear3d);

  OpCase wide = linear3d;
  wide.variant = "Linear(1, 32769)";
  wide.shape = "1025x1 @ 32769x1^T + 32769";
  wide.dtypes = {"fp32"};
  wide.reduction_size = 2;
  wide.backward_reduction_size = 32769;
  wide.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {1025, 1}, dtype), values(gen, {32769, 1}, dtype), values(gen, {32769}, dtype)};
  };
  cases.push_back(wide);

  OpCase conv;
  conv.op = "conv1d";
  conv.variant = "minibatch 2^16";
  conv.size_class = "boundary";
  conv.shape = "65536x1x4 * 2x1x2";
  conv.dtypes = {"fp32", "bf16"};
  conv.layouts = {"contiguous"};
  conv.family = OpFamily::reduction;
  conv.reduction_size = 2;
  conv.backward_reduction_size = 196608;
  conv.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {65536, 1, 4}, dtype), values(gen, {2, 1, 2}, dtype, 0.7), values(gen, {2}, dtype)};
  };
  conv.compute = [](const Tensors& in) { return at::conv1d(in[0], in[1], in[2]); };
  cases.push_back(conv);

  OpCase norm;
  norm.op = "layer_norm";
  norm.variant = "2^16+1 rows";
  norm.size_class = "boundary";
  norm.shape = "65537x8";
  norm.dtypes = {"fp32", "bf16"};
  norm.layouts = {"contiguous"};
  norm.family = OpFamily::reduction;
  norm.reduction_size = 8;
  norm.backward_reduction_size = 65537;
  norm.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {65537, 8}, dtype), (at::rand({8}, gen, at::kDouble) + 0.5).to(dtype), values(gen, {8}, dtype, 0.1)};
  };
  norm.compute = [](const Tensors& in) { return at::layer_norm(in[0], {8}, in[1], in[2], 1e-5); };
  cases.push_back(norm);

  OpCase mm;
  mm.op = "mm";
  mm.variant = "2^15+1 rows";
  mm.size_class = "boundary";
  mm.shape = "32769x8 @ 8x4";
  mm.dtypes = {"fp32", "bf16"};
  mm.layouts = {"contiguous", "transposed"};
  mm.family = OpFamily::reduction;
  mm.reduction_size = 8;
  mm.backward_reduction_size = 32769;
  mm.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {32769, 8}, dtype), values(gen, {8, 4}, dtype, 0.35)};
  };
  mm.layout_inputs = {0, 1};
  mm.compute = [](const Tensors& in) { return at::mm(in[0], in[1]); };
  cases.push_back(mm);
  return cases;
}

}  // namespace mlspeed::verify
