#include "mlspeed/verify/quant_checks.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <exception>
#include <optional>

#include "mlspeed/core/text.h"
#include "mlspeed/quant/blocks.h"
#include "mlspeed/verify/op_engine.h"

namespace mlspeed::verify {
namespace {

// Columns per format: an odd number of blocks (K-quants 3 x 256, Q8_0/Q4_0 23 x 32), plain 739.
int64_t small_cols(WeightFormat f) {
  const int64_t block = traits(f).block_elements;
  return block == 256 ? 3 * 256 : block == 32 ? 23 * 32 : 739;
}
// Llama-2-7B's down_proj input (11008 = 43 x 256); 347 blocks of 32; 11003 plain.
int64_t medium_cols(WeightFormat f) {
  const int64_t block = traits(f).block_elements;
  return block == 256 ? 43 * 256 : block == 32 ? 347 * 32 : 11003;
}

// The input's quantisation run of the int8-activation kernels (cpu_kernels.h).
int64_t activation_run(WeightFormat f) { return traits(f).block_elements == 256 ? 256 : 32; }

bool int8_path(const std::string& path) { return path.find("dequantize") == std::string::npos; }

// The weights before quantisation: N(0, 0.02) times a log-normal factor per 16 columns of a row.
at::Tensor dense_weights(int64_t rows, int64_t cols, at::Generator& gen) {
  const int64_t groups = (cols + 15) / 16;
  const at::Tensor spread = at::exp(0.75 * at::randn({rows, groups}, gen, at::kDouble));
  const at::Tensor factor = spread.repeat_interleave(16, 1).narrow(1, 0, cols);
  return (0.02 * at::randn({rows, cols}, gen, at::kDouble) * factor).to(at::kFloat);
}

std::string quant_shape(const QuantCase& c) {
  return "x " + std::to_string(c.batch) + "x" + std::to_string(c.cols) + ", W " + std::to_string(c.rows) + "x" +
         std::to_string(c.cols) + " " + std::string(name(c.format));
}

CheckResult quant_row(const Target& target, const QuantCase& c, const std::string& dtype, const std::string& layout,
                      const char* op = kQuantLinearOp) {
  CheckResult row;
  row.device = target.facts.id;
  row.level = Level::op;
  row.check = op;
  row.variant = std::string(name(c.format));
  row.layout = layout;
  row.dtype = dtype;
  row.shape = quant_shape(c);
  row.size_class = c.size_class;
  row.pass = "forward";
  // As the op engine classes its rows: a layout, then a size class, else the op itself.
  row.bug_class = layout != "contiguous" ? BugClass::layout : c.size_class != "small" ? BugClass::size : BugClass::op;
  record_flags(row);
  return row;
}

// One case's matrix, made once for all its rows (the medium class's 11M weights take longer to
// quantise than any product with them).
struct QuantWeights {
  quant::QuantizedMatrix cpu;     // the blocks, on the CPU
  quant::QuantizedMatrix device;  // the same bytes on the device
  at::Tensor reference;           // blocks.h's decoding, float64
};

QuantWeights quant_weights(const QuantCase& c, const c10::Device& device, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  QuantWeights w;
  w.cpu = quant::quantize(dense_weights(c.rows, c.cols, gen), c.format, at::kCPU);
  w.device = {c.format, c.rows, c.cols, w.cpu.blocks.to(device)};
  w.reference = reference_dequantize(w.cpu).to(at::kDouble);
  return w;
}

// The input of one row: uniform in [-1, 1], rounded to the tested dtype, on the CPU.
at::Tensor quant_input(const QuantCase& c, at::ScalarType dtype, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return (2 * at::rand({c.batch, c.cols}, gen, at::kDouble) - 1).to(dtype);
}

bool quant_fell_back(CheckResult& row, const std::vector<std::string>& fallbacks) {
  if (fallbacks.empty()) return false;
  row.outcome = Outcome::not_tested;
  row.fallback = fallbacks.front();
  row.message = "not tested on the device: " + fallbacks.front();
  return true;
}

void quant_forward_row(const Target& target, const QuantCase& c, const QuantWeights& w, const std::string& dtype_name,
                       const std::string& layout, uint64_t seed, CheckResult& row) {
  const at::ScalarType dtype = scalar_type(dtype_name);
  const at::Tensor input = quant_input(c, dtype, seed);
  at::Tensor first, second;
  std::vector<std::string> fallbacks;
  {
    DeviceScope scope(target);
    const at::Tensor x = in_layout(input.to(target.device), layout);
    first = quant::linear(x, w.device).to(at::kCPU);
    second = quant::linear(x, w.device).to(at::kCPU);
    fallbacks = scope.fallbacks();
  }
  if (quant_fell_back(row, fallbacks)) return;
  const std::string path = quant::path_name(target.device, c.batch, current_kernel_set());
  const at::Tensor x = reference_input(input, dtype);
  record(row, compare(first, x.matmul(w.reference.t()), quant_linear_tolerance(c.format, dtype, path, w.reference, x)));
  row.message = "path " + path + ": " + row.message;
  row.reproducible = bitwise_equal(first, second);
  if (!*row.reproducible) row.message += "; two runs were not bitwise equal (non-deterministic)";
}

void dequantize_row_check(const Target& target, const QuantWeights& w, const std::string& dtype_name,
                          CheckResult& row) {
  const at::ScalarType dtype = scalar_type(dtype_name);
  at::Tensor decoded, again;
  std::vector<std::string> fallbacks;
  {
    DeviceScope scope(target);
    decoded = quant::dequantize(w.device, dtype).to(at::kCPU);
    again = quant::dequantize(w.device, dtype).to(at::kCPU);
    fallbacks = scope.fallbacks();
  }
  if (quant_fell_back(row, fallbacks)) return;
  Tolerance exact;
  exact.description = "exact: ggml's values in float32, then rounded to " + dtype_name + " (quantized_matrix.h)";
  record(row, compare(decoded, w.reference.to(dtype).to(at::kDouble), exact));
  row.reproducible = bitwise_equal(decoded, again);
  if (!*row.reproducible) row.message += "; two runs were not bitwise equal (non-deterministic)";
}

uint64_t quant_seed(uint64_t seed, const std::string& what) {
  return seed * 0x9E3779B97F4A7C15ULL ^ std::hash<std::string>{}(what);
}

// The case's weights for `body`, made on first use (a failure to make them fails each row).
using WeightsBody = std::function<void(const QuantWeights&, CheckResult&)>;
std::function<void(CheckResult&)> with_weights(std::optional<QuantWeights>& weights, const Target& target,
                                               const QuantCase& c, uint64_t seed, const WeightsBody& body) {
  return [&weights, &target, &c, seed, body](CheckResult& row) {
    if (!weights) weights = quant_weights(c, target.device, quant_seed(seed, row.variant + "/" + row.shape));
    body(*weights, row);
  };
}

}  // namespace

std::vector<QuantCase> quant_cases() {
  std::vector<QuantCase> cases;
  for (WeightFormat f : kAllWeightFormats) {
    for (int64_t batch : {1, 3, 8, 9, 512})
      cases.push_back({f, 67, small_cols(f), batch, "small", batch == 1 || batch == 512});
    for (int64_t batch : {1, 8, 9}) cases.push_back({f, 1031, medium_cols(f), batch, "medium", false});
  }
  return cases;
}

const std::vector<std::string>& quant_dtypes() {
  static const std::vector<std::string> kDtypes{"fp32", "bf16", "fp16"};
  return kDtypes;
}

const std::vector<std::string>& quant_layouts() {
  static const std::vector<std::string> kLayouts{"contiguous", "transposed", "strided", "offset"};
  return kLayouts;
}

void run_quant_case(const Target& target, const QuantCase& c, const std::vector<std::string>& dtypes,
                    const std::vector<std::string>& layouts, uint64_t seed,
                    const std::function<void(CheckResult)>& emit) {
  std::optional<QuantWeights> weights;
  for (const std::string& dtype : dtypes)
    for (const std::string& layout : layouts) {
      const CheckResult row = quant_row(target, c, dtype, layout);
      const uint64_t x_seed = quant_seed(seed, row.variant + "/" + row.shape + "/" + dtype);
      run_row(row, with_weights(weights, target, c, seed, [&](const QuantWeights& w, CheckResult& r) {
                      quant_forward_row(target, c, w, dtype, layout, x_seed, r);
                    }),
                    emit);
    }
}

void run_dequantize_case(const Target& target, const QuantCase& c, const std::vector<std::string>& dtypes,
                         uint64_t seed, const std::function<void(CheckResult)>& emit) {
  std::optional<QuantWeights> weights;
  for (const std::string& dtype : dtypes) {
    CheckResult row = quant_row(target, c, dtype, "contiguous", kQuantDequantizeOp);
    row.shape = std::to_string(c.rows) + "x" + std::to_string(c.cols) + " " + row.variant;
    run_row(row, with_weights(weights, target, c, seed, [&](const QuantWeights& w, CheckResult& r) {
                    dequantize_row_check(target, w, dtype, r);
                  }),
                  emit);
  }
}

at::Tensor reference_dequantize(const quant::QuantizedMatrix& w) {
  const at::Tensor blocks = w.blocks.to(at::kCPU).contiguous();
  at::Tensor out = at::empty({w.rows, w.cols}, at::kFloat);
  const int64_t row_bytes = storage_bytes(w.format, w.cols);
  for (int64_t r = 0; r < w.rows; ++r)
    quant::dequantize_row(w.format, blocks.data_ptr<uint8_t>() + r * row_bytes, out.data_ptr<float>() + r * w.cols,
                          w.cols);
  return out;
}

double int8_activation_bound(const at::Tensor& weight, const at::Tensor& x, int64_t run) {
  const int64_t cols = x.size(-1);
  const at::Tensor run_max = x.abs().reshape({-1, cols / run, run}).amax(-1).repeat_interleave(run, -1);
  return (run_max.matmul(weight.abs().t()) / 254.0).max().item<double>();
}

Tolerance quant_linear_tolerance(WeightFormat format, at::ScalarType dtype, const std::string& path,
                                 const at::Tensor& reference_weight, const at::Tensor& x) {
  Tolerance t = tolerance_for(dtype, /*tf32=*/false, OpFamily::reduction, reference_weight.size(1));
  if (!traits(format).quantized || !int8_path(path)) {
    t.description += traits(format).quantized ? " (exact dequantisation, then the product)" : "";
    return t;
  }
  const double bound = int8_activation_bound(reference_weight, x, activation_run(format));
  t.atol += bound;
  t.description += printf_string(" + cpu_kernels.h's int8-activation bound, sum |W| max|x| / 254 over runs of %lld: "
                                 "%.3g (atol %.3g)",
                                 static_cast<long long>(activation_run(format)), bound, t.atol);
  return t;
}

}  // namespace mlspeed::verify
