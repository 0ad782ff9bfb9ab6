// The op suite's table: every op form, its shapes, dtypes and layouts, and the one computation
// that runs both on the device and in float64 on the CPU. Inputs are fresh random values from
// the case's seed, never zeros, scaled so that outputs are O(1).
#include <ATen/ATen.h>

#include <limits>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/verify/op_engine.h"
#include "mlspeed/verify/op_inputs.h"

namespace mlspeed::verify {
namespace {

const std::vector<std::string> kProduct{"fp32", "tf32", "fp16", "bf16", "fp64"};

std::string dims(const Sizes& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

// --- matrix products -----------------------------------------------------------------------------

// mm in form nn/nt/tn/tt: a "t" operand is stored transposed and passed as .t().
OpCase mm_case(const std::string& variant, int64_t m, int64_t k, int64_t n, const std::string& size_class = "small") {
  const bool ta = variant[0] == 't' && variant != "square", tb = variant.size() == 2 && variant[1] == 't';
  OpCase c;
  c.op = "mm";
  c.variant = variant;
  c.size_class = size_class;
  c.shape = dims({m, k}) + " @ " + dims({k, n});
  c.dtypes = kProduct;
  c.layouts = size_class == "small" ? kPlain : std::vector<std::string>{"contiguous"};
  c.family = OpFamily::reduction;
  c.reduction_size = k;
  c.backward_reduction_size = std::max({m, k, n});
  const double scale = 1.0 / std::sqrt(static_cast<double>(k));
  c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, ta ? Sizes{k, m} : Sizes{m, k}, dtype), values(gen, tb ? Sizes{n, k} : Sizes{k, n}, dtype, scale)};
  };
  c.layout_inputs = {0, 1};
  auto operands = [=](const Tensors& in) { return std::pair{ta ? in[0].t() : in[0], tb ? in[1].t() : in[1]}; };
  c.compute = [=](const Tensors& in) {
    auto [a, b] = operands(in);
    return at::mm(a, b);
  };
  c.compute_out = [=](const Tensors& in, at::Tensor& out) {
    auto [a, b] = operands(in);
    at::mm_out(out, a, b);
  };
  return with_view_layouts(c);
}

std::vector<OpCase> matrix_products() {
  std::vector<OpCase> cases;
  // Square: a kernel that uses the transposed second operand (BUGS O1) gives A B^T != A B, since
  // random inputs are not symmetric.
  cases.push_back(mm_case("square", 64, 64, 64));
  for (const char* form : {"nn", "nt", "tn", "tt"}) cases.push_back(mm_case(form, 48, 32, 40));

  OpCase matmul;
  matmul.op = "matmul";
  matmul.variant = "batched-broadcast";
  matmul.shape = "3x24x32 @ 32x16";
  matmul.dtypes = kProduct;
  matmul.layouts = kPlain;
  matmul.family = OpFamily::reduction;
  matmul.reduction_size = 32;
  matmul.backward_reduction_size = 72;
  matmul.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {3, 24, 32}, dtype), values(gen, {32, 16}, dtype, 1 / std::sqrt(32.0))};
  };
  matmul.layout_inputs = {0, 1};
  matmul.compute = [](const Tensors& in) { return at::matmul(in[0], in[1]); };
  matmul.compute_out = [](const Tensors& in, at::Tensor& out) { at::matmul_out(out, in[0], in[1]); };
  cases.push_back(with_view_layouts(matmul));

  for (const bool transposed_b : {false, true}) {
    OpCase bmm;
    bmm.op = "bmm";
    bmm.variant = transposed_b ? "nt" : "nn";
    bmm.shape = "4x24x32 @ 4x32x16";
    bmm.dtypes = kProduct;
    bmm.layouts = kPlain;
    bmm.family = OpFamily::reduction;
    bmm.reduction_size = 32;
    bmm.backward_reduction_size = 32;
    bmm.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
      return Tensors{values(gen, {4, 24, 32}, dtype),
                     values(gen, transposed_b ? Sizes{4, 16, 32} : Sizes{4, 32, 16}, dtype, 1 / std::sqrt(32.0))};
    };
    bmm.layout_inputs = {0, 1};
    bmm.compute = [=](const Tensors& in) { return at::bmm(in[0], transposed_b ? in[1].transpose(1, 2) : in[1]); };
    bmm.compute_out = [=](const Tensors& in, at::Tensor& out) {
      at::bmm_out(out, in[0], transposed_b ? in[1].transpose(1, 2) : in[1]);
    };
    cases.push_back(with_view_layouts(bmm));
  }

  for (const int64_t n : {64, 40}) {
    // Square: an addmm that returns its result transposed (BUGS O1) is wrong there.
    OpCase addmm;
    addmm.op = "addmm";
    addmm.variant = n == 64 ? "square" : "nn";
    addmm.shape = dims({n, n}) + " + " + dims({n, 32}) + " @ " + dims({32, n});
    addmm.dtypes = kProduct;
    addmm.layouts = kPlain;
    addmm.family = OpFamily::reduction;
    addmm.reduction_size = 33;
    addmm.backward_reduction_size = 64;
    addmm.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
      return Tensors{values(gen, {n, n}, dtype), values(gen, {n, 32}, dtype), values(gen, {32, n}, dtype, 1 / std::sqrt(32.0))};
    };
    addmm.layout_inputs = {0, 1, 2};
    addmm.compute = [](const Tensors& in) { return at::addmm(in[0], in[1], in[2]); };
    addmm.compute_out = [](const Tensors& in, at::Tensor& out) { at::addmm_out(out, in[0], in[1], in[2]); };
    cases.push_back(with_view_layouts(addmm));
  }

  for (const bool three_d : {false, true}) {
    // The strided layout gives the weight as w[::2] (BUGS L1).
    OpCase linear;
    linear.op = "linear";
    linear.variant = three_d ? "3d" : "2d";
    linear.shape = (three_d ? std::string("4x8x32") : std::string("16x32")) + " @ 24x32^T + 24";
    linear.dtypes = kProduct;
    linear.layouts = kPlain;
    linear.family = OpFamily::reduction;
    linear.reduction_size = 33;
    linear.backward_reduction_size = 32;
    linear.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
      return Tensors{values(gen, three_d ? Sizes{4, 8, 32} : Sizes{16, 32}, dtype),
                     values(gen, {24, 32}, dtype, 1 / std::sqrt(32.0)), values(gen, {24}, dtype)};
    };
    linear.layout_inputs = {0, 1};
    linear.compute = [](const Tensors& in) { return at::linear(in[0], in[1], in[2]); };
    cases.push_back(linear);
  }

  // fp32 really computed in fp32 (BUGS P3): every input is (1 + u 2^-11) / 16 with u in [0, 1),
  // so each carries its information in mantissa bits 11 to 23. TF32 and fp16 keep 10 bits, bf16
  // 7: rounding drops u 2^-11, a relative error of up to 2^-11 per factor, always downwards, so
  // the sum of 256 products of O(1/256) is off by ~2 * 2^-12 = 4.9e-4 relative — about five
  // times the fp32 tolerance (1e-4 at K=256) — while true fp32 is off by ~1e-6.
  OpCase precision;
  precision.op = "matmul";
  precision.variant = "fp32-precision";
  precision.shape = "64x256 @ 256x64";
  precision.dtypes = {"fp32"};
  precision.layouts = {"contiguous"};
  precision.family = OpFamily::reduction;
  precision.reduction_size = 256;
  precision.precision = true;
  precision.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    auto operand = [&](Sizes s) { return ((at::rand(s, gen, at::kDouble) * std::ldexp(1.0, -11) + 1) / 16).to(dtype); };
    return Tensors{operand({64, 256}), operand({256, 64})};
  };
  precision.compute = [](const Tensors& in) { return at::matmul(in[0], in[1]); };
  cases.push_back(precision);
  return cases;
}

// --- convolutions --------------------------------------------------------------------------------

OpCase conv_case(const std::string& op, Sizes input, Sizes weight, Sizes stride, int64_t fan_in, int64_t outputs_per_weight) {
  OpCase c;
  c.op = op;
  std::string s;
  for (size_t i = 0; i < stride.size(); ++i) s += (i ? "," : "") + std::to_string(stride[i]);
  c.variant = "stride " + (stride.size() > 1 ? "(" + s + ")" : s);
  c.shape = dims(input) + " * " + dims(weight);
  c.dtypes = kProduct;
  c.layouts = kNoBroadcast;
  c.family = OpFamily::reduction;
  c.reduction_size = fan_in;
  c.backward_reduction_size = std::max(fan_in, outputs_per_weight);
  const int64_t bias = op.find("transpose") != std::string::npos ? weight[1] : weight[0];
  c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, input, dtype), values(gen, weight, dtype, 1 / std::sqrt(static_cast<double>(fan_in))),
                   values(gen, {bias}, dtype)};
  };
  c.layout_inputs = {0, 1};
  c.compute = [=](const Tensors& in) {
    if (op == "conv1d") return at::conv1d(in[0], in[1], in[2], stride);
    if (op == "conv2d") return at::conv2d(in[0], in[1], in[2], stride);
    if (op == "conv_transpose1d") return at::conv_transpose1d(in[0], in[1], in[2], stride);
    return at::conv_transpose2d(in[0], in[1], in[2], stride);
  };
  return c;
}

std::vector<OpCase> convolutions() {
  // Strides 2 (conv1d), (1,2) (conv2d) and 8 (conv_transpose1d) are the triggers of BUGS O2.
  std::vector<OpCase> cases;
  for (int64_t s : {1, 2}) cases.push_back(conv_case("conv1d", {2, 4, 32}, {6, 4, 3}, {s}, 12, 64));
  for (Sizes s : {Sizes{1, 1}, Sizes{2, 2}, Sizes{1, 2}})
    cases.push_back(conv_case("conv2d", {2, 3, 12, 14}, {5, 3, 3, 3}, s, 27, 336));
  for (int64_t s : {1, 2, 8}) cases.push_back(conv_case("conv_transpose1d", {2, 4, 16}, {4, 6, 3}, {s}, 12, 32));
  for (Sizes s : {Sizes{1, 1}, Sizes{2, 2}, Sizes{1, 2}})
    cases.push_back(conv_case("conv_transpose2d", {2, 4, 8, 9}, {4, 5, 3, 3}, s, 36, 144));
  return cases;
}

// --- normalisation and attention ----------------------------------------------------------------

std::vector<OpCase> softmaxes() {
  std::vector<OpCase> cases;
  for (const bool log : {false, true})
    for (const std::string variant : {"rows", "columns", "large"}) {
      OpCase c;
      c.op = log ? "log_softmax" : "softmax";
      c.variant = variant;
      const bool large = variant == "large";
      const int64_t dim = variant == "columns" ? 0 : 1;
      c.shape = "8x64, dim " + std::to_string(dim);
      // Large: inputs up to +-30000, whose exponentials overflow fp16 (and fp32) unless the row
      // maximum is subtracted first (BUGS P1).
      c.dtypes = large ? std::vector<std::string>{"fp32", "fp16", "bf16"} : kFloat;
      c.layouts = large ? std::vector<std::string>{"contiguous"} : kPlain;
      c.family = OpFamily::reduction;
      c.reduction_size = dim == 1 ? 64 : 8;
      c.backward_reduction_size = large ? 0 : 64;
      c.precision = large;
      c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
        return Tensors{large ? uniform(gen, {8, 64}, dtype, -30000, 30000) : values(gen, {8, 64}, dtype, 2.0)};
      };
      c.compute = [=](const Tensors& in) { return log ? at::log_softmax(in[0], dim) : at::softmax(in[0], dim); };
      if (!large)
        // The public out= forms users call. (The private _softmax_out / _log_softmax_out write
        // outside a transposed out view on LibTorch 1.13's CPU and 2.11's CUDA alike: see
        // results/2026-11-23-h100-verify/README.md.)
        c.compute_out = [=](const Tensors& in, at::Tensor& out) {
          if (log) at::log_softmax_out(out, in[0], dim);
          else at::softmax_out(out, in[0], dim);
        };
      cases.push_back(with_view_layouts(c));
    }
  return cases;
}

std::vector<OpCase> normalisations() {
  std::vector<OpCase> cases;
  for (const bool tiny_eps : {false, true}) {
    // Tiny eps: variance ~1e-6 against eps 1e-7, where a kernel that mishandles eps is ~2.4x off
    // (BUGS O5). The offset layout is t[1:] (BUGS L2).
    OpCase c;
    c.op = "layer_norm";
    c.variant = tiny_eps ? "eps 1e-7, low variance" : "affine";
    c.shape = "16x64";
    c.dtypes = kFloat;
    c.layouts = kPlain;
    c.family = OpFamily::reduction;
    c.reduction_size = 64;
    // Its gradient scales as 1/sigma = 1000, not O(1): the affine variant checks the backward.
    c.backward_reduction_size = tiny_eps ? 0 : 64;
    const double eps = tiny_eps ? 1e-7 : 1e-5;
    c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
      return Tensors{values(gen, {16, 64}, dtype, tiny_eps ? 1e-3 : 1.0), uniform(gen, {64}, dtype, 0.5, 1.5),
                     values(gen, {64}, dtype, 0.1)};
    };
    c.compute = [=](const Tensors& in) { return at::layer_norm(in[0], {64}, in[1], in[2], eps); };
    cases.push_back(c);
  }
  OpCase group;
  group.op = "group_norm";
  group.variant = "4 groups";
  group.shape = "4x8x6x5";
  group.dtypes = kFloat;
  group.layouts = kPlain;
  group.family = OpFamily::reduction;
  group.reduction_size = 60;
  group.backward_reduction_size = 120;
  group.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    return Tensors{values(gen, {4, 8, 6, 5}, dtype), uniform(gen, {8}, dtype, 0.5, 1.5), values(gen, {8}, dtype, 0.1)};
  };
  group.compute = [](const Tensors& in) { return at::group_norm(in[0], 4, in[1], in[2], 1e-5); };
  cases.push_back(group);
  return cases;
}

std::vector<OpCase> attention() {
  std::vector<OpCase> cases;
  for (const std::string variant : {"plain", "causal", "large"}) {
    OpCase c;
    c.op = "sdpa";
    c.variant = variant;
    c.shape = "2x4x16x32";
    const bool large = variant == "large";
    c.dtypes = large ? std::vector<std::string>{"fp32", "fp16", "bf16"} : kProduct;
    c.layouts = large ? std::vector<std::string>{"contiguous"} : kNoBroadcast;
    c.family = OpFamily::reduction;
    c.reduction_size = 32;
    c.backward_reduction_size = large ? 0 : 32;
    c.precision = large;
    c.inputs = [=](at::Generator& gen, at::ScalarType dtype) {
      if (!large) return Tensors{values(gen, {2, 4, 16, 32}, dtype), values(gen, {2, 4, 16, 32}, dtype), values(gen, {2, 4, 16, 32}, dtype)};
      // Large (BUGS P1): q = 8t * 1 and k_j = m_j * 1 with t in [12, 16] and the m_j a random
      // permutation of 1..16, so the unscaled score q.k_j = 256 t m_j reaches 65536, past fp16's
      // 65504: a kernel that scales after the product overflows. Scaled by 1/sqrt(32) the scores of
      // one query differ by >= 543, so softmax is exactly one-hot in every dtype and the output is
      // the value row of the largest m_j; no rounding can change it.
      const at::Tensor t = at::randint(12, 17, {2, 4, 16, 1}, gen, at::kLong).to(at::kDouble) * 8;
      const at::Tensor m = (at::randperm(16, gen, at::kLong) + 1).to(at::kDouble).view({1, 1, 16, 1});
      const at::Tensor ones = at::ones({2, 4, 16, 32}, at::kDouble);
      return Tensors{(t * ones).to(dtype), (m * ones).to(dtype), values(gen, {2, 4, 16, 32}, dtype)};
    };
    c.layout_inputs = {0, 1, 2};
    c.compute = [=](const Tensors& in) { return compat::sdpa(in[0], in[1], in[2], variant == "causal", 0.0); };
    cases.push_back(c);
  }
  return cases;
}

// --- elementwise ---------------------------------------------------------------------------------

std::vector<OpCase> elementwise() {
  std::vector<OpCase> cases;
  OpCase gelu;
  gelu.op = "gelu";
  gelu.variant = "erf";
  gelu.shape = "32x48";
  gelu.dtypes = kFloat;
  gelu.layouts = kPlain;
  gelu.backward_reduction_size = 1;
  gelu.inputs = [](at::Generator& gen, at::ScalarType dtype) { return Tensors{values(gen, {32, 48}, dtype, 2.0)}; };
  gelu.compute = [](const Tensors& in) { return at::gelu(in[0]); };
  gelu.compute_out = [](const Tensors& in, at::Tensor& out) { at::gelu_out(out, in[0]); };
  cases.push_back(with_view_layouts(gelu));

  // SiLU on non-contiguous input (BUGS L4): the transposed and strided layouts.
  OpCase silu = gelu;
  silu.op = "silu";
  silu.variant = "";
  silu.layouts = kPlain;
  silu.compute = [](const Tensors& in) { return at::silu(in[0]); };
  silu.compute_out = [](const Tensors& in, at::Tensor& out) { at::silu_out(out, in[0]); };
  silu.compute_inplace = [](const Tensors& in) { at::Tensor self = in[0];
    at::silu_(self); };
  cases.push_back(with_view_layouts(silu));

  OpCase hypot;
  hypot.op = "hypot";
  hypot.variant = "";
  hypot.shape = "32x48";
  hypot.dtypes = kFloat;
  hypot.layouts = kPlain;
  hypot.backward_reduction_size = 1;
  hypot.inputs = [](at::Generator& gen, at::ScalarType dtype) { return Tensors{values(gen, {32, 48}, dtype), values(gen, {32, 48}, dtype)}; };
  hypot.layout_inputs = {0, 1};
  hypot.compute = [](const Tensors& in) { return at::hypot(in[0], in[1]); };
  hypot.compute_out = [](const Tensors& in, at::Tensor& out) { at::hypot_out(out, in[0], in[1]); };
  hypot.compute_inplace = [](const Tensors& in) { in[0].hypot_(in[1]); };
  cases.push_back(with_view_layouts(hypot));

  // hypot(max, y) with max near the dtype's largest finite value: finite, ~max (BUGS P2: inf).
  OpCase hypot_max;
  hypot_max.op = "hypot";
  hypot_max.variant = "near max float";
  hypot_max.shape = "32x48";
  hypot_max.dtypes = kFloat;
  hypot_max.layouts = {"contiguous"};
  hypot_max.precision = true;
  hypot_max.inputs = [](at::Generator& gen, at::ScalarType dtype) {
    // fp16's and bf16's largest finite values; FLT_MAX itself for float32 and float64.
    const double largest = dtype == at::kHalf       ? 65504.0
                           : dtype == at::kBFloat16 ? 3.3895313892515355e38
                                                    : std::numeric_limits<float>::max();
    return Tensors{uniform(gen, {32, 48}, dtype, largest / 2, largest), values(gen, {32, 48}, dtype)};
  };
  hypot_max.compute = [](const Tensors& in) { return at::hypot(in[0], in[1]); };
  cases.push_back(hypot_max);
  return cases;
}

}  // namespace

std::vector<OpCase> data_movement_cases();  // op_cases_data.cpp
std::vector<OpCase> boundary_cases();       // op_cases_data.cpp
std::vector<OpCase> medium_cases();         // op_cases_medium.cpp

std::vector<OpCase> op_cases() {
  std::vector<OpCase> all;
  for (auto part : {matrix_products(), convolutions(), softmaxes(), normalisations(), attention(), elementwise(),
                    data_movement_cases(), boundary_cases(), medium_cases()})
    for (OpCase& c : part) all.push_back(std::move(c));
  return all;
}

}  // namespace mlspeed::verify
