// The huge size class: results past 2^31 elements or bytes and 2^32 elements (BUGS S1, S2, S3,
// S7), too big for a float64 copy. Each check compares the slices where index-width bugs show
// (either side of 2^31 / 2^32, the last rows, batch 65536) with a cheap exact reference; cat,
// pure data movement, is compared in full, chunk by chunk.
#include <ATen/ATen.h>

#include "mlspeed/verify/op_engine.h"

namespace mlspeed::verify {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// Huge inputs are drawn on the device, where they live, from its default generator, seeded.
void seed_device(uint64_t seed) { at::manual_seed(seed); }

HugeCase huge_cat_case() {
  // Two uint8 tensors of 2^30 + 2^20 bytes: the result has 2^31 + 2^21 elements (S1: rows past
  // 2^31 stay 0).
  HugeCase c;
  c.op = "cat";
  c.variant = "output past 2^31 elements";
  c.dtype = "uint8";
  const int64_t rows = (kGiB + (int64_t{1} << 20)) / 1024;
  c.shape = std::to_string(rows) + "x1024 ++ " + std::to_string(rows) + "x1024";
  c.device_bytes = 4 * rows * 1024 + kGiB / 2;
  c.tolerance = tolerance_for(at::kByte, false, OpFamily::elementwise);
  c.device = [rows](const c10::Device& device, uint64_t seed) {
    seed_device(seed);
    const auto options = at::TensorOptions().device(device).dtype(at::kByte);
    const at::Tensor a = at::randint(1, 256, {rows, 1024}, options), b = at::randint(1, 256, {rows, 1024}, options);
    const at::Tensor out = at::cat({a, b}, 0);
    // Every chunk of 2^16 rows compared exactly; a mismatching chunk (or, if none, the chunks
    // either side of element 2^31) goes to the row's comparison.
    HugeSlices slices;
    const int64_t chunk = 65536;
    for (int64_t start = 0; start < 2 * rows; start += chunk) {
      const int64_t n = std::min(chunk, 2 * rows - start);
      const at::Tensor got = out.narrow(0, start, n).to(at::kCPU);
      const at::Tensor want = (start < rows ? a.narrow(0, start, std::min(n, rows - start)) : b.narrow(0, start - rows, n)).to(at::kCPU);
      const bool straddles = start < rows && start + n > rows;
      const at::Tensor expected = straddles ? at::cat({want, b.narrow(0, 0, start + n - rows).to(at::kCPU)}, 0) : want;
      const bool at_boundary = start <= (2 * kGiB) / 1024 && (2 * kGiB) / 1024 < start + n;
      if (!at::equal(got, expected) || at_boundary) {
        slices.outputs.push_back(got);
        slices.reference_inputs.push_back(expected);
        if (!at::equal(got, expected)) break;
      }
    }
    return slices;
  };
  c.reference = [](const Tensors& expected) { return expected; };
  return c;
}

HugeCase index_select_case() {
  // An fp16 weight of (2^21 + 2^11) x 1024 = 2^31 + 2^21 elements (S2: rows past the limit come
  // back zero). Small integer values, exact in fp16.
  HugeCase c;
  c.op = "index_select";
  c.variant = "weight past 2^31 elements";
  c.dtype = "fp16";
  const int64_t rows = (int64_t{1} << 21) + (int64_t{1} << 11);
  c.shape = std::to_string(rows) + "x1024, 4096 indices";
  c.device_bytes = rows * 1024 * 2 + kGiB / 2;
  c.tolerance = tolerance_for(at::kHalf, false, OpFamily::elementwise);
  c.device = [rows](const c10::Device& device, uint64_t seed) {
    seed_device(seed);
    const auto options = at::TensorOptions().device(device);
    const at::Tensor weight = at::randint(1, 16, {rows, 1024}, options.dtype(at::kHalf));
    at::Tensor index = at::randint(0, rows, {4096}, options.dtype(at::kLong));
    index.narrow(0, 0, 64).copy_(at::arange(rows - 64, rows, options.dtype(at::kLong)));  // the last rows
    const at::Tensor out = at::index_select(weight, 0, index);
    HugeSlices slices;
    slices.outputs.push_back(out.to(at::kCPU));
    slices.reference_inputs = {weight.to(at::kCPU), index.to(at::kCPU)};
    return slices;
  };
  c.reference = [](const Tensors& in) { return Tensors{at::index_select(in[0], 0, in[1])}; };
  return c;
}

HugeCase bmm_case() {
  // bmm with 2^17 batches of 192x192 (4.8e9 > 2^32 output elements) from a transposed first
  // operand (S3). The batches either side of 65536 and of element 2^32 are compared.
  HugeCase c;
  c.op = "bmm";
  c.variant = "output past 2^32 elements, transposed input";
  c.dtype = "fp16";
  const int64_t batch = int64_t{1} << 17, m = 192, k = 8;
  c.shape = "131072x192x8 @ 131072x8x192";
  c.device_bytes = batch * m * m * 2 + 2 * batch * m * k * 2 + kGiB;
  c.tolerance = tolerance_for(at::kHalf, false, OpFamily::reduction, k);
  const std::vector<int64_t> sampled{0, 65535, 65536, (int64_t{1} << 32) / (m * m), batch - 1};
  c.device = [=](const c10::Device& device, uint64_t seed) {
    seed_device(seed);
    const auto options = at::TensorOptions().device(device).dtype(at::kHalf);
    const at::Tensor a = at::randn({batch, k, m}, options).transpose(1, 2);  // non-contiguous
    const at::Tensor b = at::randn({batch, k, m}, options) * 0.35;
    const at::Tensor out = at::bmm(a, b);
    HugeSlices slices;
    for (int64_t i : sampled) {
      slices.outputs.push_back(out[i].to(at::kCPU));
      slices.reference_inputs.push_back(a[i].to(at::kCPU));
      slices.reference_inputs.push_back(b[i].to(at::kCPU));
    }
    return slices;
  };
  c.reference = [](const Tensors& in) {
    Tensors out;
    for (size_t i = 0; i + 1 < in.size(); i += 2) out.push_back(at::mm(in[i].to(at::kDouble), in[i + 1].to(at::kDouble)));
    return out;
  };
  return c;
}

HugeCase softmax_case() {
  // softmax over 131073 rows of 16384 in fp16: 2^31 + 2^14 elements (S7: NaN past the limit).
  HugeCase c;
  c.op = "softmax";
  c.variant = "past 2^31 elements";
  c.dtype = "fp16";
  const int64_t rows = 131073, cols = 16384;
  c.shape = "131073x16384";
  c.device_bytes = 2 * rows * cols * 2 + kGiB;
  c.tolerance = tolerance_for(at::kHalf, false, OpFamily::reduction, cols);
  c.device = [=](const c10::Device& device, uint64_t seed) {
    seed_device(seed);
    const at::Tensor x = at::randn({rows, cols}, at::TensorOptions().device(device).dtype(at::kHalf));
    const at::Tensor out = at::softmax(x, 1);
    HugeSlices slices;
    for (int64_t r : {int64_t{0}, int64_t{65536}, rows - 2, rows - 1}) {
      slices.outputs.push_back(out[r].to(at::kCPU).to(at::kDouble) * cols);  // O(1) values
      slices.reference_inputs.push_back(x[r].to(at::kCPU));
    }
    return slices;
  };
  c.reference = [cols](const Tensors& in) {
    Tensors out;
    for (const at::Tensor& row : in) out.push_back(at::softmax(row.to(at::kDouble), 0) * static_cast<double>(cols));
    return out;
  };
  return c;
}

}  // namespace

std::vector<HugeCase> huge_cases() { return {huge_cat_case(), index_select_case(), bmm_case(), softmax_case()}; }

}  // namespace mlspeed::verify
