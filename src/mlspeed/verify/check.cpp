#include "mlspeed/verify/check.h"

#include <algorithm>
#include <array>
#include <utility>

#include "mlspeed/bench/failure.h"
#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/text.h"
#include "mlspeed/verify/compare.h"

namespace mlspeed::verify {
namespace {

template <class E, size_t N>
std::optional<E> parse_from(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view text) {
  for (const auto& [value, label] : names)
    if (label == text) return value;
  return std::nullopt;
}

template <class E, size_t N>
std::string_view name_from(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, label] : names)
    if (v == value) return label;
  return "?";
}

constexpr std::array<std::pair<Outcome, std::string_view>, 6> kOutcomes{{{Outcome::pass, "pass"},
                                                                         {Outcome::fail, "fail"},
                                                                         {Outcome::not_tested, "not-tested"},
                                                                         {Outcome::skipped, "skipped"},
                                                                         {Outcome::error, "error"},
                                                                         {Outcome::known_issue, "known-issue"}}};
constexpr std::array<std::pair<Level, std::string_view>, 2> kLevels{{{Level::op, "op"}, {Level::model, "model"}}};
constexpr std::array<std::pair<BugClass, std::string_view>, 7> kClasses{{{BugClass::layout, "layout"},
                                                                         {BugClass::size, "size"},
                                                                         {BugClass::op, "op"},
                                                                         {BugClass::precision, "precision"},
                                                                         {BugClass::random, "random"},
                                                                         {BugClass::training, "training"},
                                                                         {BugClass::model, "model"}}};

}  // namespace

std::string_view name(Outcome outcome) { return name_from(kOutcomes, outcome); }
std::optional<Outcome> parse_outcome(std::string_view text) { return parse_from(kOutcomes, text); }
std::string_view name(Level level) { return name_from(kLevels, level); }
std::optional<Level> parse_level(std::string_view text) { return parse_from(kLevels, text); }
std::string_view name(BugClass bug_class) { return name_from(kClasses, bug_class); }
std::optional<BugClass> parse_bug_class(std::string_view text) { return parse_from(kClasses, text); }

void record_flags(CheckResult& row) {
  row.deterministic = at::globalContext().deterministicAlgorithms();
  row.cudnn_benchmark = at::globalContext().benchmarkCuDNN();
  row.fp16_reduced_reduction = compat::fp16_reduced_precision_reduction();
  row.bf16_reduced_reduction = compat::bf16_reduced_precision_reduction();
}

void record(CheckResult& row, const Comparison& c) {
  row.elements = c.elements;
  row.mismatched = c.mismatched;
  row.mismatch_fraction = c.mismatch_fraction;
  row.max_abs_error = c.max_abs_error;
  row.max_rel_error = c.max_rel_error;
  row.error_ratio = c.error_ratio;
  row.first_bad_index.clear();
  if (c.first_bad_index) {
    std::vector<std::string> parts;
    for (int64_t i : *c.first_bad_index) parts.push_back(std::to_string(i));
    row.first_bad_index = "[" + join(parts, ", ") + "]";
  }
  row.nan_output = c.nan_output;
  row.inf_output = c.inf_output;
  row.zero_output = c.zero_output;
  row.nan_reference = c.nan_reference;
  row.inf_reference = c.inf_reference;
  row.zero_reference = c.zero_reference;
  row.tolerance = c.tolerance.description;
  row.outcome = c.passed ? Outcome::pass : Outcome::fail;
  row.message = c.summary();
}

void record_failure(CheckResult& row, const std::exception_ptr& error) {
  const Failure failure = classify_failure(error);
  row.outcome = failure.status == Status::error ? Outcome::error : Outcome::skipped;
  row.message = failure.message;
}

std::string describe(const CheckResult& row) {
  std::vector<std::string> what;
  for (const std::string* part : {&row.dtype, &row.variant, &row.shape, &row.layout, &row.pass})
    if (!part->empty() && *part != "contiguous") what.push_back(*part);
  return row.check + " on " + row.device + (what.empty() ? "" : ", " + join(what, ", ")) + ": " + row.message;
}

std::string covered(const std::vector<const CheckResult*>& group, const std::string CheckResult::*member,
                    const char* noun) {
  std::vector<std::string> seen;
  for (const CheckResult* row : group) {
    const std::string& value = row->*member;
    if (!value.empty() && std::find(seen.begin(), seen.end(), value) == seen.end()) seen.push_back(value);
  }
  if (seen.size() <= 3) return join(seen, ", ");
  return std::to_string(seen.size()) + " " + noun;
}

}  // namespace mlspeed::verify
