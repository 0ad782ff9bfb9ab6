// One verification check and its outcome: the row `mlspeed verify` prints, stores next to the
// speed results of the same machine, and sums up into a verdict per device.
#pragma once

#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"

namespace mlspeed::verify {

struct Comparison;

// pass: within tolerance (and every flag clear). fail: a wrong number, with the sentence saying
// what was wrong. not_tested: LibTorch ran the op on the CPU instead of the device (its fallback
// warning) — never a pass. skipped: could not run here, with the reason (not enough memory, dtype
// not implemented for the device). error: the check threw something unexpected (counts as a
// failure: the device did not compute the result). known_issue: a fail or error that is a known
// bug of this LibTorch, listed with its upstream report in known_issues.h — a real finding, but
// not one this machine causes; it fails the verdict only with --strict.
enum class Outcome { pass, fail, not_tested, skipped, error, known_issue };
inline constexpr std::array<Outcome, 6> kAllOutcomes = {Outcome::pass,  Outcome::fail,  Outcome::not_tested,
                                                        Outcome::skipped, Outcome::error, Outcome::known_issue};
std::string_view name(Outcome outcome);  // pass, fail, not-tested, skipped, error, known-issue
std::optional<Outcome> parse_outcome(std::string_view text);

// op: one op in one layout, dtype and size, against its float64 CPU reference. model: one
// workload's forward, gradients, training curve or greedy generation against the CPU.
enum class Level { op, model };
inline constexpr std::array<Level, 2> kAllLevels = {Level::op, Level::model};
std::string_view name(Level level);  // op, model
std::optional<Level> parse_level(std::string_view text);

// The classes of docs/silent-bugs.md a check stands for. A failing row names the class its check covers:
//   layout     a non-contiguous layout (transposed, strided, offset, broadcast, out=, in-place view)
//   size       a size class past an index boundary (boundary, huge)
//   precision  a low-precision overflow / fp32 computed at lower precision checks
//   random     random-number ops (checked statistically)
//   training   gradients (backward), parameter updates and training curves
//   op         everything else: an op wrong in its plain contiguous form
//   model      model-level forward output and generation
enum class BugClass { layout, size, op, precision, random, training, model };
inline constexpr std::array<BugClass, 7> kAllBugClasses = {BugClass::layout,    BugClass::size,   BugClass::op,
                                                          BugClass::precision, BugClass::random, BugClass::training,
                                                          BugClass::model};
std::string_view name(BugClass bug_class);
std::optional<BugClass> parse_bug_class(std::string_view text);

struct CheckResult {
  int64_t run_id = 0;     // 0 until stored
  std::string timestamp;  // when the check ran, ISO 8601 UTC
  std::string device;     // "cuda:0"
  Level level = Level::op;
  // What was checked. Op level: check "mm", variant "square" (which form of the op), layout
  // "transposed", dtype "fp16" (op_suite.h's dtype_names()), shape "4096x4096", size_class
  // "small", pass "forward" / "backward" / "statistics". Model level: check "gpt2-train", variant
  // the workload size, layout "", dtype the precision (fp32, bf16, ...), pass "forward" /
  // "gradients" / "training" / "generation" / "text".
  std::string check;
  std::string variant;
  std::string layout;
  std::string dtype;
  std::string shape;
  std::string size_class;
  std::string pass;
  BugClass bug_class = BugClass::op;
  // The outcome, and one sentence a user understands ("3.1% of elements (1234 of 40000) off by up
  // to 0.42, first at [3, 17]"), or the reason it was skipped / not tested.
  Outcome outcome = Outcome::pass;
  std::string message;
  std::string tolerance;  // the tolerance applied, in words ("bf16 reduction over K=4096: rtol 0.1, atol 0.1")
  // The comparison's figures (empty when no comparison was made: statistics, skips).
  std::optional<int64_t> elements;
  std::optional<int64_t> mismatched;
  std::optional<double> mismatch_fraction;
  std::optional<double> max_abs_error;
  std::optional<double> max_rel_error;  // |out - ref| / |ref|: large next to near-zero references
  // What the tolerance tested: the largest |out - ref| / (atol + rtol |ref|), at most 1 when every
  // finite element is within it (compare.h); 0 for an exact match, empty for an exact mismatch.
  std::optional<double> error_ratio;
  std::string first_bad_index;  // "[3, 17]"; empty when none
  std::optional<int64_t> nan_output, inf_output, zero_output;
  std::optional<int64_t> nan_reference, inf_reference, zero_reference;
  // Run twice: whether the two results were bitwise equal (empty when it was not run twice).
  std::optional<bool> reproducible;
  std::string fallback;  // LibTorch's CPU-fallback warning, when the op did not run on the device
  double seconds = 0;    // wall time of the check, reference included
  std::string fault;     // the fault injected into the device (`--inject-fault`); empty normally
  std::string known_issue;  // the known_issues.h entry a known-issue row is (its id); empty otherwise
  // Context: the device and host it ran on, and the precision flags in force for this check.
  DeviceFacts device_facts;
  HostFacts host;
  bool tf32 = false;             // TF32 allowed for float32 matrix products and convolutions
  bool deterministic = false;    // deterministic algorithms on
  bool cudnn_benchmark = false;  // cuDNN benchmark mode on
  // cuBLAS may sum float16 / bfloat16 matrix products in their own precision (split-K); unknown
  // where the LibTorch has no such flag (bfloat16 before 2.0).
  std::optional<bool> fp16_reduced_reduction;
  std::optional<bool> bf16_reduced_reduction;
};

// Sets the row's process-wide precision flags as they are now: deterministic algorithms, cuDNN
// benchmark, the reduced-precision reductions (TF32 is per check: its caller sets it).
void record_flags(CheckResult& row);

// Copies a comparison's figures, tolerance and sentence into the row and sets pass/fail.
void record(CheckResult& row, const Comparison& comparison);

// The outcome of a check that threw, classified as the runner classifies failures
// (bench/failure.h): a dtype or op the device does not implement, or memory it lacks, makes the
// check skipped with the reason; anything else is an error.
void record_failure(CheckResult& row, const std::exception_ptr& error);

// "mm on cuda:0, fp32, 4096x4096 transposed: <message>" — what the verdict lists for a failure.
std::string describe(const CheckResult& row);

// What a group of checks (one failure line) covered in one member: its distinct non-empty values,
// listed when at most three ("fp16, bf16"), else counted with `noun` ("5 shapes").
std::string covered(const std::vector<const CheckResult*>& group, const std::string CheckResult::*member,
                    const char* noun);

}  // namespace mlspeed::verify
