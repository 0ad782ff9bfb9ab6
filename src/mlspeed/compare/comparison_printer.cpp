#include "mlspeed/compare/comparison_printer.h"

#include <algorithm>
#include <ostream>
#include <utility>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

// Column letters keep the table narrow whatever the runs are called; the legend names them.
std::string letter(size_t column) { return std::string(1, static_cast<char>('A' + column % 26)); }

std::string ms_text(const Cell& cell) {
  if (!cell.present) return "—";
  if (cell.status != Status::ok) return std::string(name(cell.status));
  return cell.timed() ? printf_string("%.4g", cell.median_ms) : "no samples";
}

std::string p_text(const Change& change) {
  if (!change.test) return "";
  return change.test->p < 0.001 ? "<0.001" : printf_string("%.3f", change.test->p);
}

// The first of a noisy side's flags ("A cv 26%", "B 2 outliers", "A n=3"): the table keeps 120
// columns; json and csv carry every flag.
std::string noise_text(const Cell& base, const Cell& other, size_t column) {
  std::vector<std::string> parts;
  for (const auto& [cell, name] : {std::pair{&base, letter(0)}, std::pair{&other, letter(column)}}) {
    const std::string flag = cell->noise.flag();
    if (!flag.empty()) parts.push_back(name + " " + flag.substr(0, flag.find(',')));
  }
  return join(parts, ", ");
}

std::string change_cell(const ComparedRow& row, size_t column) {
  const Cell &base = row.cells[0], &other = row.cells[column];
  if (!base.present) return "only in " + letter(column);
  if (!other.present) return "only in A";
  const Change& change = row.changes[column];
  const bool claimed = change.verdict == Verdict::faster || change.verdict == Verdict::slower;
  return describe_change(change) + (claimed && (base.noise.noisy() || other.noise.noisy()) ? "?" : "");
}

std::string without_device(MatchKey key) {
  key.device.clear();
  return describe(key);
}

std::string summary_line(const ColumnSummary& s) {
  const double g = s.geomean_speedup.value_or(1);
  std::string line = letter(s.column) + " vs A" + (s.device.empty() ? "" : " on " + s.device) + ": geometric mean " +
                     printf_string("%.2fx (%s)", g, g >= 1 ? "speedup" : "slowdown") + " over " +
                     std::to_string(s.compared) + (s.compared == 1 ? " configuration" : " configurations") + ": " +
                     std::to_string(s.faster) + " faster, " + std::to_string(s.slower) + " slower, " +
                     std::to_string(s.same) + " same";
  if (s.undecided > 0) line += ", " + std::to_string(s.undecided) + " not tested (too few samples or published figures)";
  if (s.noisy > 0) line += "; " + std::to_string(s.noisy) + " with noisy samples";
  return line;
}

// One table: column `column` against the baseline, for the rows of one device kind.
void print_table(const Comparison& comparison, size_t column, const std::string& device, std::ostream& out) {
  const std::string b = letter(column);
  // A side with no rows of this kind at all (a GPU run against a CPU reference): one line, not a
  // table of "only in" rows.
  int64_t in_a = 0, in_b = 0;
  for (const ComparedRow& row : comparison.rows) {
    if (row.key.device != device) continue;
    in_a += row.cells[0].present;
    in_b += row.cells[column].present;
  }
  if ((in_a == 0) != (in_b == 0) && comparison.match == DeviceMatch::kind) {
    const bool a_lacks = in_a == 0;
    out << "\n" << (a_lacks ? "A" : b) << " has no " << one_line(device) << " rows; " << (a_lacks ? b : "A") << " has "
        << (a_lacks ? in_b : in_a) << ((a_lacks ? in_b : in_a) == 1 ? " configuration" : " configurations")
        << " on " << one_line(device) << ".\n";
    return;
  }
  std::vector<std::vector<std::string>> cells;
  bool energy = false;  // a column of energy ratios, once a row of this table has one
  for (const ComparedRow& row : comparison.rows) {
    if (row.key.device != device) continue;
    if (!row.cells[0].present && !row.cells[column].present) continue;
    cells.push_back({without_device(row.key), ms_text(row.cells[0]), ms_text(row.cells[column]),
                     change_cell(row, column), p_text(row.changes[column]),
                     noise_text(row.cells[0], row.cells[column], column), describe_energy(row.changes[column])});
    energy = energy || row.changes[column].energy_ratio.has_value();
  }
  if (cells.empty()) return;
  std::vector<std::string> titles = {"configuration", "A ms", b + " ms", b + " vs A", "p", "noise"};
  std::vector<bool> numeric = {false, true, true, false, true, false};
  if (energy) {
    titles.push_back(b + " vs A, J/item");
    numeric.push_back(false);
  } else {
    for (auto& row : cells) row.pop_back();
  }
  const std::string heading = comparison.match == DeviceMatch::none
                                  ? comparison.columns[column] + " vs " + comparison.columns[0]
                                  : b + " vs A" + (device.empty() ? "" : " on " + device);
  out << "\n### " << one_line(heading) << "\n\n";
  out << markdown_table(titles, numeric, cells);
  for (const ColumnSummary& s : comparison.summaries)
    if (s.column == column && s.device == device) out << "\n" << one_line(summary_line(s)) << "\n";
}

void print_md(const Comparison& comparison, std::ostream& out) {
  std::vector<std::string> legend;
  for (size_t c = 0; c < comparison.columns.size(); ++c)
    legend.push_back(letter(c) + " = " + printable(comparison.columns[c]) + (c == 0 ? " (baseline)" : ""));
  out << "Comparing " << one_line(join(legend, ", ")) << ".\n";
  out << printf_string(
      "Medians in ms per iteration. Faster or slower only when the Mann-Whitney U test on the samples gives\n"
      "p < %g and the median moved by more than %g%%; \"?\": a side's samples are noisy (cv: coefficient of\n"
      "variation, outliers, n: few samples), so time it again before trusting the verdict.\n",
      comparison.settings.alpha, comparison.settings.threshold * 100);
  if (!comparison.notes.empty()) {
    out << "\nContext differences and warnings:\n";
    for (const std::string& note : comparison.notes) out << "- " << printable(note) << "\n";
  }
  std::vector<std::string> devices;  // device kinds in the order rows show them
  for (const ComparedRow& row : comparison.rows)
    if (std::find(devices.begin(), devices.end(), row.key.device) == devices.end()) devices.push_back(row.key.device);
  for (size_t c = 1; c < comparison.columns.size(); ++c)
    for (const std::string& device : devices) print_table(comparison, c, device, out);
  if (comparison.rows.empty()) out << "\nNo rows to compare.\n";
}

Value optional_value(const std::optional<double>& v) { return v ? Value(*v) : Value(); }

// An energy verdict in its own words: less, more, same, too few samples.
std::string energy_verdict_name(Verdict v) {
  if (v == Verdict::faster) return "less";
  if (v == Verdict::slower) return "more";
  return std::string(name(v));
}

std::vector<Value> comparison_record(const Comparison& comparison, const ComparedRow& row, size_t column) {
  const Cell &a = row.cells[0], &b = row.cells[column];
  const Change& change = row.changes[column];
  auto status = [](const Cell& cell) { return cell.present ? Value(std::string(name(cell.status))) : Value("absent"); };
  auto median_of = [](const Cell& cell) { return cell.timed() ? Value(cell.median_ms) : Value(); };
  const std::string method = !change.test ? "" : change.test->exact ? "exact" : "normal";
  return {describe(row.key), row.key.workload, row.key.size, row.key.dtype, row.key.shape, row.key.timing,
          row.key.device, comparison.columns[0], comparison.columns[column], a.device, b.device, status(a),
          status(b), median_of(a), median_of(b), int64_t(a.samples_ms.size()), int64_t(b.samples_ms.size()),
          optional_value(a.items_per_s), optional_value(b.items_per_s), b.present ? b.item_unit : a.item_unit,
          optional_value(change.ratio), optional_value(change.speedup),
          change.test ? Value(change.test->u) : Value(), change.test ? Value(change.test->p) : Value(),
          method.empty() ? Value() : Value(method), std::string(name(change.verdict)), a.noise.flag(), b.noise.flag(),
          optional_value(a.median_joules_per_item), optional_value(b.median_joules_per_item),
          optional_value(change.energy_ratio),
          change.energy_ratio ? Value(energy_verdict_name(change.energy_verdict)) : Value()};
}

}  // namespace

const std::vector<std::string>& comparison_field_names() {
  static const std::vector<std::string> names = {
      "configuration", "workload", "size", "dtype", "shape", "timing", "device_kind", "baseline", "compared",
      "baseline_device", "device", "baseline_status", "status", "baseline_median_ms", "median_ms", "baseline_n", "n",
      "baseline_items_per_s", "items_per_s", "item_unit", "ratio", "speedup", "u", "p_value", "p_method", "verdict",
      "baseline_noise", "noise", "baseline_joules_per_item", "joules_per_item", "energy_ratio", "energy_verdict"};
  return names;
}

std::string describe_change(const Change& change) {
  if (!change.speedup) return "";
  const double s = *change.speedup;
  switch (change.verdict) {
    case Verdict::faster: return printf_string("%.2fx faster", s);
    case Verdict::slower: return printf_string("%.2fx slower", s);
    case Verdict::same: return printf_string("same (%.2fx)", s);
    case Verdict::too_few_samples: return printf_string("%.2fx, too few samples", s);
    case Verdict::published: return printf_string("%.2fx, published figure", s);
    case Verdict::not_compared: break;
  }
  return "";
}

void print_comparison(const Comparison& comparison, Format format, std::ostream& out, std::ostream& notes) {
  if (format == Format::md) return print_md(comparison, out);
  for (const std::string& note : comparison.notes) notes << "compare: " << printable(note) << "\n";
  RowWriter writer(format, out, comparison_field_names());
  writer.begin();
  for (const ComparedRow& row : comparison.rows)
    for (size_t c = 1; c < comparison.columns.size(); ++c)
      if (row.cells[0].present || row.cells[c].present) writer.write(comparison_record(comparison, row, c));
  writer.end();
}

}  // namespace mlspeed
