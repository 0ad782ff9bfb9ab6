#include "mlspeed/verify/check_fields.h"

#include "mlspeed/results/machine_fields.h"

namespace mlspeed {

template <> struct EnumNames<verify::Outcome> {
  static std::optional<verify::Outcome> parse(std::string_view text) { return verify::parse_outcome(text); }
  static constexpr const auto& values = verify::kAllOutcomes;
};
template <> struct EnumNames<verify::Level> {
  static std::optional<verify::Level> parse(std::string_view text) { return verify::parse_level(text); }
  static constexpr const auto& values = verify::kAllLevels;
};
template <> struct EnumNames<verify::BugClass> {
  static std::optional<verify::BugClass> parse(std::string_view text) { return verify::parse_bug_class(text); }
  static constexpr const auto& values = verify::kAllBugClasses;
};

namespace verify {
namespace {

template <class Access> CheckField check_field(std::string name, std::string help, Access access) {
  return make_field<CheckResult>(std::move(name), std::move(help), access);
}

#define MEMBER(expr) [](auto& r) -> auto& { return r.expr; }

// Context fields carry the same names as in the results table, so one query can join them.
std::vector<CheckField> make_check_fields() {
  std::vector<CheckField> fields = {
      check_field("run_id", "id of the run in the results database (0 if not stored)", MEMBER(run_id)),
      check_field("timestamp", "when the check ran (UTC)", MEMBER(timestamp)),
      check_field("device", "device under test (cpu, cuda:0, mps)", MEMBER(device)),
      check_field("level", "op or model", MEMBER(level)),
      check_field("check", "the op or workload checked (mm, gpt2-train)", MEMBER(check)),
      check_field("variant", "which form of the op, or the workload size", MEMBER(variant)),
      check_field("layout", "input layout (contiguous, transposed, sliced, offset, broadcast, out, inplace-view)",
            MEMBER(layout)),
      check_field("dtype", "dtype of the check (fp32, tf32, fp16, bf16, fp64, int8, ..., int64, bool)", MEMBER(dtype)),
      check_field("shape", "shape checked (4096x4096)", MEMBER(shape)),
      check_field("size_class", "size class (small, boundary, medium, huge)", MEMBER(size_class)),
      check_field("pass", "forward, backward, statistics; models: forward, gradients, training, generation, text",
            MEMBER(pass)),
      check_field("bug_class", "the docs/silent-bugs.md class the check stands for", MEMBER(bug_class)),
      check_field("outcome", "pass, fail, not-tested, skipped, error or known-issue", MEMBER(outcome)),
      check_field("message", "what was wrong, or why it was skipped or not tested", MEMBER(message)),
      check_field("tolerance", "the tolerance applied, in words", MEMBER(tolerance)),
      check_field("elements", "elements compared", MEMBER(elements)),
      check_field("mismatched", "elements outside the tolerance", MEMBER(mismatched)),
      check_field("mismatch_fraction", "mismatched / elements", MEMBER(mismatch_fraction)),
      check_field("max_abs_error", "largest absolute error over finite elements", MEMBER(max_abs_error)),
      check_field("max_rel_error", "largest |out - ref| / |ref| over finite elements (large next to near-zero references)",
            MEMBER(max_rel_error)),
      check_field("error_ratio",
            "what the tolerance tested: largest |out - ref| / (atol + rtol |ref|); at most 1 passes (0: exact match)",
            MEMBER(error_ratio)),
      check_field("first_bad_index", "index of the first mismatch ([3, 17])", MEMBER(first_bad_index)),
      check_field("nan_output", "NaN elements in the device's output", MEMBER(nan_output)),
      check_field("inf_output", "infinite elements in the device's output", MEMBER(inf_output)),
      check_field("zero_output", "exact zeros in the device's output", MEMBER(zero_output)),
      check_field("nan_reference", "NaN elements in the reference", MEMBER(nan_reference)),
      check_field("inf_reference", "infinite elements in the reference", MEMBER(inf_reference)),
      check_field("zero_reference", "exact zeros in the reference", MEMBER(zero_reference)),
      check_field("reproducible", "two runs were bitwise equal (unknown when not run twice)", MEMBER(reproducible)),
      check_field("fallback", "LibTorch's CPU-fallback warning, when the op did not run on the device", MEMBER(fallback)),
      check_field("seconds", "wall time of the check, reference included", MEMBER(seconds)),
      check_field("fault", "fault injected into the device under test (--inject-fault)", MEMBER(fault)),
      check_field("known_issue", "the known upstream LibTorch issue a known-issue row is (mlspeed verify --list)",
            MEMBER(known_issue)),
      check_field("device_id", "device id in the device facts", MEMBER(device_facts.id)),
      check_field("device_kind", "cpu, cuda or mps", MEMBER(device_facts.kind)),
      check_field("device_index", "device index", MEMBER(device_facts.index)),
  };
  for (auto& f : machine_fields<CheckResult>()) fields.push_back(std::move(f));
  fields.insert(fields.end(), {
      check_field("tf32", "TF32 allowed for float32 matrix products and convolutions", MEMBER(tf32)),
      check_field("deterministic", "deterministic algorithms on", MEMBER(deterministic)),
      check_field("cudnn_benchmark", "cuDNN benchmark mode on", MEMBER(cudnn_benchmark)),
      check_field("fp16_reduced_reduction", "cuBLAS may sum float16 matrix products in float16 (split-K)",
            MEMBER(fp16_reduced_reduction)),
      check_field("bf16_reduced_reduction", "cuBLAS may sum bfloat16 matrix products in bfloat16 (split-K)",
            MEMBER(bf16_reduced_reduction)),
  });
  return fields;
}

#undef MEMBER

}  // namespace

const std::vector<CheckField>& check_fields() {
  static const std::vector<CheckField> fields = make_check_fields();
  return fields;
}

const CheckField* find_check_field(std::string_view name) { return find_field_in(check_fields(), name); }

}  // namespace verify
}  // namespace mlspeed
