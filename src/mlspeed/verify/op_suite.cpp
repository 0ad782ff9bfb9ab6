#include "mlspeed/verify/op_suite.h"

#include <algorithm>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/verify/op_engine.h"
#include "mlspeed/verify/quant_checks.h"

namespace mlspeed::verify {
namespace {

// What each op's rows cover, for `mlspeed verify --list-ops`.
const std::vector<OpInfo>& summaries() {
  static const std::vector<OpInfo> kSummaries{
      {"mm", "matrix product: square (BUGS O1), nn/nt/tn/tt, 1024x1024x1024, 2^15+1 rows"},
      {"matmul", "batched matrix product with a broadcast operand; fp32 really computed in fp32 (P3)"},
      {"bmm", "batched matrix product nn/nt, batch 2^16+1, output past 2^32 elements (S3)"},
      {"addmm", "bias plus matrix product, square (O1: transposed result) and rectangular"},
      {"linear", "x W^T + b, weight sliced w[::2] (L1), 8 rows through K 4096, 3-d with batch over 65536 (S5), "
                 "Linear(1, 32769) (S4)"},
      {kQuantLinearOp, "x W^T with W in every weight format (q8_0, q4_0, q4_k, q6_k, f32, f16, bf16: quant/), "
                       "1 and 512 input rows (int8-activation kernels, dequantise + matmul), rows and columns off "
                       "every tile; against blocks.h's decoder in float64"},
      {kQuantDequantizeOp, "the LibTorch-op decoder of every quantised weight format against blocks.h's, exactly, "
                           "in fp32, bf16 and fp16"},
      {"conv1d", "strides 1 and 2 (O2), weight gradient over a minibatch of 2^16 (S6)"},
      {"conv2d", "strides 1, 2 and (1,2) (O2)"},
      {"conv_transpose1d", "strides 1, 2 and 8 (O2)"},
      {"conv_transpose2d", "strides 1, 2 and (1,2)"},
      {"softmax", "rows, columns, fp16 inputs up to 30000 (P1), rows of 1025 to 12416 (S7), rows of 2^16+1, past 2^31 "
                  "elements"},
      {"log_softmax", "rows, columns, fp16 inputs up to 30000 (P1), rows of 1025 to 12416"},
      {"layer_norm", "affine; eps 1e-7 on low-variance input (O5); storage offset (L2); rows of 1025 and 4096; "
                     "2^16+1 rows"},
      {"group_norm", "4 groups over 8 channels"},
      {"sdpa", "scaled dot-product attention, plain, causal, scores past fp16's range (P1)"},
      {"gelu", "erf form, out= into a strided view"},
      {"silu", "non-contiguous input (L4), out= and in place on a view"},
      {"hypot", "plain; near the largest float (P2: hypot(FLT_MAX, 1) = inf)"},
      {"embedding", "rows with repeats; weights past 2^16 elements"},
      {"index_select", "random rows; 2^16+1 rows; weight past 2^31 elements (S2)"},
      {"index_copy", "distinct rows, in place on a view (O6)"},
      {"index_add", "rows with repeats, in place on a view (O6)"},
      {"scatter", "distinct positions, after a permute (L3), in place on a view"},
      {"cat", "dims 0 and 1, every dtype; 2^17+2 elements; output past 2^31 elements (S1)"},
      {"cumsum", "every float, integer type and bool (O3), rows of 16384, 2^16+1 elements"},
      {"sum", "last dim and whole tensor, every dtype, rows of 16384, 2^16+1 elements"},
      {"prod", "last dim, every dtype"},
      {"max", "last dim, every dtype"},
      {"min", "last dim, every dtype"},
      {"argmax", "ties: the first index (O4: INT64_MIN), every dtype, rows of 16384, 2^16+1 elements"},
      {"topk", "k 5: values and the input at the indices"},
      {"rand", "statistics: support, mean, variance"},
      {"randn", "statistics: mean, variance"},
      {"normal_", "statistics: mean, variance"},
      {"bernoulli", "statistics: values 0/1, mean, variance"},
      {"dropout", "statistics: values 0 and 1/(1-p), fraction kept"},
      {"multinomial", "zero-probability categories never drawn, category frequencies, no INT64_MIN (R1)"},
  };
  return kSummaries;
}

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void check_choices(const std::vector<std::string>& asked, const std::vector<std::string>& choices, const std::string& what) {
  for (const std::string& value : asked)
    if (!listed(choices, value))
      throw UsageError("unknown " + what + " '" + value + "'; choose from: " + join(choices, ", "));
}

// The names of `asked` (aliases accepted; validate() has refused anything else).
std::vector<std::string> canonical_dtypes(const std::vector<std::string>& asked) {
  std::vector<std::string> out;
  for (const std::string& dtype : asked) out.push_back(canonical_dtype(dtype).value_or(dtype));
  return out;
}

// The values of `offered` that the selection keeps: those asked for (all when none were), and in
// the quick subset only those of `quick`.
std::vector<std::string> chosen_values(const std::vector<std::string>& offered, const std::vector<std::string>& asked,
                                  bool quick, const std::vector<std::string>& quick_set) {
  std::vector<std::string> out;
  for (const std::string& v : offered)
    if ((asked.empty() || listed(asked, v)) && (!quick || listed(quick_set, v))) out.push_back(v);
  return out;
}

const std::vector<std::string> kQuickLayouts{"contiguous", "transposed"};
const std::vector<std::string> kQuickDtypes{"fp32", "bf16", "int64"};

// The size classes a selection runs: --quick runs small and the medium cases marked for it.
std::vector<std::string> classes_of(const OpSuiteOptions& options) {
  if (options.quick) return {"small", "medium"};
  return chosen_values(size_class_names(), options.size_classes.empty() ? default_size_classes() : options.size_classes,
                  false, {});
}

bool case_wanted(const OpCase& c, const std::vector<std::string>& classes, bool quick) {
  if (!listed(classes, c.size_class)) return false;
  return !quick || c.size_class == "small" || c.quick;
}

// quant_linear's cases (quant_checks.h); --quick runs those marked for it.
void run_quant_cases(const Target& target, const OpSuiteOptions& options, const std::vector<std::string>& classes,
                     const std::vector<std::string>& dtypes_asked, const std::function<void(CheckResult)>& emit) {
  const auto dtypes = chosen_values(quant_dtypes(), dtypes_asked, options.quick, kQuickDtypes);
  const auto layouts = chosen_values(quant_layouts(), options.layouts, options.quick, kQuickLayouts);
  if (dtypes.empty() || layouts.empty()) return;
  for (const QuantCase& c : quant_cases())
    if (listed(classes, c.size_class) && (!options.quick || c.quick))
      run_quant_case(target, c, dtypes, layouts, options.seed, emit);
}

// quant_dequantize: one matrix of each quantised format, in the small class, contiguous.
void run_dequantize_cases(const Target& target, const OpSuiteOptions& options, const std::vector<std::string>& classes,
                          const std::vector<std::string>& dtypes_asked, const std::function<void(CheckResult)>& emit) {
  const auto dtypes = chosen_values(quant_dtypes(), dtypes_asked, options.quick, kQuickDtypes);
  if (dtypes.empty() || !listed(classes, "small") || !(options.layouts.empty() || listed(options.layouts, "contiguous")))
    return;
  for (const QuantCase& c : quant_cases())
    if (c.size_class == "small" && c.batch == 1 && traits(c.format).quantized)
      run_dequantize_case(target, c, dtypes, options.seed, emit);
}

}  // namespace

const std::vector<std::string>& layout_names() {
  static const std::vector<std::string> kNames{"contiguous", "transposed", "strided",     "offset",
                                               "broadcast",  "out-strided", "inplace-view"};
  return kNames;
}

const std::vector<std::string>& size_class_names() {
  static const std::vector<std::string> kNames{"small", "boundary", "medium", "huge"};
  return kNames;
}

const std::vector<std::string>& default_size_classes() {
  static const std::vector<std::string> kNames{"small", "boundary", "medium"};
  return kNames;
}

std::vector<OpInfo> op_catalogue() { return summaries(); }

void validate(const OpSuiteOptions& options) {
  std::vector<std::string> ops;
  for (const OpInfo& info : summaries()) ops.push_back(info.name);
  check_choices(options.ops, ops, "op");
  check_choices(options.layouts, layout_names(), "layout");
  for (const std::string& dtype : options.dtypes)
    if (!canonical_dtype(dtype)) {
      std::vector<std::string> aliases;
      for (const auto& [alias, name] : dtype_aliases()) aliases.push_back(alias);
      throw UsageError("unknown dtype '" + dtype + "'; choose from: " + join(dtype_names(), ", ") +
                       " (or the long names " + join(aliases, ", ") + ")");
    }
  check_choices(options.size_classes, size_class_names(), "size class");
}

std::vector<CheckResult> run_op_suite(const Target& target, const OpSuiteOptions& options,
                                      const std::function<void(const CheckResult&)>& on_row) {
  validate(options);
  const std::vector<std::string> dtypes_asked = canonical_dtypes(options.dtypes);
  std::vector<CheckResult> rows;
  const auto emit = [&](CheckResult row) {
    if (on_row) on_row(row);
    rows.push_back(std::move(row));
  };
  const std::vector<std::string> classes = classes_of(options);
  const auto op_wanted = [&](const std::string& op) { return options.ops.empty() || listed(options.ops, op); };

  // In catalogue order: each op's small, boundary, medium and huge forms, then its statistics.
  const std::vector<OpCase> cases = op_cases();
  const std::vector<RandomCase> randoms = random_cases();
  const std::vector<HugeCase> huges = huge_cases();
  for (const OpInfo& info : summaries()) {
    if (!op_wanted(info.name)) continue;
    if (info.name == kQuantLinearOp) run_quant_cases(target, options, classes, dtypes_asked, emit);
    if (info.name == kQuantDequantizeOp) run_dequantize_cases(target, options, classes, dtypes_asked, emit);
    for (const OpCase& c : cases) {
      if (c.op != info.name || !case_wanted(c, classes, options.quick)) continue;
      const auto dtypes = chosen_values(c.dtypes, dtypes_asked, options.quick, kQuickDtypes);
      const auto layouts = chosen_values(c.layouts, options.layouts, options.quick, kQuickLayouts);
      if (!dtypes.empty() && !layouts.empty()) run_case(target, c, dtypes, layouts, options.seed, emit);
    }
    if (listed(classes, "huge") && (options.layouts.empty() || listed(options.layouts, "contiguous")))
      for (const HugeCase& c : huges)
        if (c.op == info.name && (dtypes_asked.empty() || listed(dtypes_asked, c.dtype)))
          run_huge_case(target, c, options.seed, emit);
    if (listed(classes, "small") && (options.layouts.empty() || listed(options.layouts, "contiguous")))
      for (const RandomCase& c : randoms) {
        if (c.op != info.name) continue;
        const auto dtypes = chosen_values(c.dtypes, dtypes_asked, options.quick, kQuickDtypes);
        if (!dtypes.empty()) run_random_case(target, c, dtypes, options.seed, emit);
      }
  }
  return rows;
}

}  // namespace mlspeed::verify
