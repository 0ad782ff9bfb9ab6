#include "mlspeed/verify/check_printers.h"

#include <algorithm>
#include <ostream>
#include <string>

#include "mlspeed/core/text.h"
#include "mlspeed/verify/check_fields.h"
#include "mlspeed/verify/verdict.h"

namespace mlspeed::verify {
namespace {

constexpr const char* kUnknown = "-";

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

// Rows a person reads one by one: what went wrong or was not tested on the device.
bool shown_in_full(const CheckResult& row) {
  return row.outcome == Outcome::fail || row.outcome == Outcome::error || row.outcome == Outcome::not_tested;
}

std::string error_figure(const std::optional<double>& x) { return x ? printf_string("%.3g", *x) : kUnknown; }

// The distinct values of one member over a group: listed when few, counted when many.
std::string covered(const std::vector<const CheckResult*>& group, const std::string CheckResult::*member,
                    const char* noun) {
  std::vector<std::string> seen;
  for (const CheckResult* row : group) {
    const std::string& v = row->*member;
    if (!v.empty() && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
  }
  if (seen.size() <= 3) return join(seen, ", ");
  return std::to_string(seen.size()) + " " + noun;
}

std::vector<std::string> full_row(const CheckResult& row) {
  const std::string what = row.outcome == Outcome::not_tested && !row.fallback.empty() ? row.fallback : row.message;
  return {row.device,  row.check,  row.pass,  std::string(name(row.outcome)), "1", row.dtype, row.layout,
          row.variant, row.shape, error_figure(row.max_rel_error), one_line(what)};
}

std::vector<std::string> summary_row(const std::vector<const CheckResult*>& group) {
  const CheckResult& first = *group.front();
  std::optional<double> worst;
  int64_t not_reproducible = 0;
  std::vector<std::string> reasons;
  for (const CheckResult* row : group) {
    if (row->max_rel_error) worst = std::max(worst.value_or(*row->max_rel_error), *row->max_rel_error);
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
  void header() override {}
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

class MachineCheckPrinter : public CheckPrinter {
 public:
  MachineCheckPrinter(Format format, std::ostream& out) : writer_(make_row_writer(format, out, check_fields())) {}
  void header() override { writer_.begin(); }
  void row(const CheckResult& check) override { writer_.write(values_of(check_fields(), check)); }
  void footer(bool) override { writer_.end(); }

 private:
  RowWriter writer_;
};

}  // namespace

std::string checks_table(const std::vector<CheckResult>& checks) {
  if (checks.empty()) return "no checks\n";
  // Table lines in first-seen order: a full row, or a group of passing / skipped checks.
  std::vector<std::vector<const CheckResult*>> lines;
  for (const CheckResult& row : checks) {
    auto same_group = [&](const std::vector<const CheckResult*>& line) {
      const CheckResult& g = *line.front();
      return !shown_in_full(g) && g.device == row.device && g.check == row.check && g.pass == row.pass &&
             g.outcome == row.outcome;
    };
    auto it = shown_in_full(row) ? lines.end() : std::find_if(lines.begin(), lines.end(), same_group);
    if (it == lines.end()) lines.push_back({&row});
    else it->push_back(&row);
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& line : lines) cells.push_back(shown_in_full(*line.front()) ? full_row(*line.front()) : summary_row(line));
  return markdown_table({"device", "check", "pass", "outcome", "checks", "dtype", "layout", "variant", "shape",
                         "max rel error", "message"},
                        {false, false, false, false, true, false, false, false, false, true, false}, cells);
}

std::unique_ptr<CheckPrinter> make_check_printer(Format format, std::ostream& out, bool strict) {
  if (format == Format::md) return std::make_unique<MarkdownCheckPrinter>(out, strict);
  return std::make_unique<MachineCheckPrinter>(format, out);
}

std::vector<CheckResult> parse_checks(Format format, std::string_view text) {
  return parse_rows(format, text, check_fields());
}

}  // namespace mlspeed::verify
