#include "mlspeed/verify/check_printers.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mlspeed/core/text.h"
#include "mlspeed/verify/check_fields.h"
#include "mlspeed/verify/op_dtypes.h"
#include "mlspeed/verify/verdict.h"

namespace mlspeed::verify {
namespace {

constexpr const char* kUnknown = "-";

// Rows a person reads one by one: what went wrong or was not tested on the device.
bool shown_in_full(const CheckResult& row) {
  return row.outcome == Outcome::fail || row.outcome == Outcome::error || row.outcome == Outcome::not_tested;
}

std::string error_figure(const std::optional<double>& x) { return x ? printf_string("%.3g", *x) : kUnknown; }

// The largest error against its tolerance over a group (the figure the tolerance tested).
std::optional<double> worst_ratio(const std::vector<const CheckResult*>& group) {
  std::optional<double> worst;
  for (const CheckResult* row : group)
    if (row->error_ratio) worst = std::max(worst.value_or(*row->error_ratio), *row->error_ratio);
  return worst;
}

std::string shown_message(const CheckResult& row) {
  return one_line(row.outcome == Outcome::not_tested && !row.fallback.empty() ? row.fallback : row.message);
}

// `text` with every whole-word `word` (not inside a longer name) replaced by `by`.
std::string replace_word(std::string text, const std::string& word, const std::string& by) {
  if (word.empty()) return text;
  const auto part_of_name = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at)) {
    const size_t end = at + word.size();
    if ((at > 0 && part_of_name(text[at - 1])) || (end < text.size() && part_of_name(text[end]))) {
      at = end;
      continue;
    }
    text.replace(at, word.size(), by);
    at += by.size();
  }
  return text;
}

// A failure's message with the row's own dtype, layout and shape as <dtype>, <layout>, <shape>:
// the same failure in several dtypes, layouts or shapes then reads as one line.
std::string generic_message(const CheckResult& row) {
  std::string text = shown_message(row);
  for (const std::string& spelling : dtype_spellings(row.dtype)) text = replace_word(text, spelling, "<dtype>");
  if (row.layout != "contiguous") text = replace_word(text, row.layout, "<layout>");  // "non-contiguous" stays
  return replace_word(text, row.shape, "<shape>");
}

// One line for failures, errors or not-tested checks with the same message: the message itself
// when every check says it word for word, else with <dtype>, <layout>, <shape> for what differs.
std::vector<std::string> failure_row(const std::vector<const CheckResult*>& group) {
  const CheckResult& first = *group.front();
  const bool same = std::all_of(group.begin(), group.end(),
                                [&](const CheckResult* row) { return shown_message(*row) == shown_message(first); });
  return {first.device,
          first.check,
          first.pass,
          std::string(name(first.outcome)),
          std::to_string(group.size()),
          covered(group, &CheckResult::dtype, "dtypes"),
          covered(group, &CheckResult::layout, "layouts"),
          covered(group, &CheckResult::variant, "variants"),
          covered(group, &CheckResult::shape, "shapes"),
          error_figure(worst_ratio(group)),
          same ? shown_message(first) : generic_message(first)};
}

// What the checks on one table line share: device, check, pass and outcome, and for failures
// the message but for the dtype, layout and shape.
std::string line_key(const CheckResult& row) {
  return join({row.device, row.check, row.pass, std::string(name(row.outcome)),
               shown_in_full(row) ? generic_message(row) : ""},
              "\n");
}

std::vector<std::string> summary_row(const std::vector<const CheckResult*>& group) {
  const CheckResult& first = *group.front();
  const std::optional<double> worst = worst_ratio(group);
  int64_t not_reproducible = 0;
  std::vector<std::string> reasons;
  for (const CheckResult* row : group) {
    not_reproducible += row->reproducible && !*row->reproducible;
    if (!row->message.empty() && std::find(reasons.begin(), reasons.end(), row->message) == reasons.end())
      reasons.push_back(row->message);
  }
  std::string note;
  if (first.outcome == Outcome::skipped)
    note = reasons.size() == 1 ? one_line(reasons.front()) : std::to_string(reasons.size()) + " reasons (see below)";
  else if (not_reproducible)
    note = std::to_string(not_reproducible) + " not reproducible (two runs differed bitwise)";
  return {first.device,
          first.check,
          first.pass,
          std::string(name(first.outcome)),
          std::to_string(group.size()),
          covered(group, &CheckResult::dtype, "dtypes"),
          covered(group, &CheckResult::layout, "layouts"),
          covered(group, &CheckResult::variant, "variants"),
          covered(group, &CheckResult::shape, "shapes"),
          error_figure(worst),
          note};
}

class MarkdownCheckPrinter : public CheckPrinter {
 public:
  MarkdownCheckPrinter(std::ostream& out, bool strict) : out_(out), strict_(strict) {}
  void header(const RunContext& context) override { out_ << describe_context(context) << "\n" << std::flush; }
  // The table is printed once at the end, when every group and column width is known.
  void row(const CheckResult& check) override { rows_.push_back(check); }
  void footer(bool complete) override {
    out_ << checks_table(rows_) << "\n";
    print_verdict(out_, summarise(rows_), complete, strict_);
  }

 private:
  std::ostream& out_;
  bool strict_;
  std::vector<CheckResult> rows_;
};

}  // namespace

std::string checks_table(const std::vector<CheckResult>& checks) {
  if (checks.empty()) return "no checks\n";
  // Table lines in first-seen order: failures with one message, or passing / skipped checks.
  std::vector<std::vector<const CheckResult*>> lines;
  std::map<std::string, size_t> line_of;  // line_key -> index in lines
  for (const CheckResult& row : checks) {
    const auto [it, added] = line_of.emplace(line_key(row), lines.size());
    if (added) lines.emplace_back();
    lines[it->second].push_back(&row);
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& line : lines) cells.push_back(shown_in_full(*line.front()) ? failure_row(line) : summary_row(line));
  // The error column is what the tolerance tested (error_ratio): at most 1 passes.
  return markdown_table({"device", "check", "pass", "outcome", "checks", "dtype", "layout", "variant", "shape",
                         "error / tolerance", "message"},
                        {false, false, false, false, true, false, false, false, false, true, false}, cells);
}

std::unique_ptr<CheckPrinter> make_check_printer(Format format, std::ostream& out, bool strict) {
  if (format == Format::md) return std::make_unique<MarkdownCheckPrinter>(out, strict);
  return std::make_unique<MachinePrinter<CheckResult>>(format, out);
}

std::vector<CheckResult> parse_checks(Format format, std::string_view text) {
  return parse_rows(format, text, check_fields());
}

}  // namespace mlspeed::verify
