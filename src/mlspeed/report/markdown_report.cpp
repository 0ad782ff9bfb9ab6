#include "mlspeed/report/markdown_report.h"

#include <algorithm>
#include <sstream>

#include "mlspeed/core/text.h"

namespace mlspeed::report {
namespace {

// Text from rows and files shown literally: no control characters, and no '<' that GitHub would
// read as an HTML tag. markdown_table escapes '|' in cells; titles get it here.
std::string md(const std::string& text) {
  std::string out;
  for (char c : printable(text)) out += c == '<' ? std::string("&lt;") : std::string(1, c);
  return out;
}

std::string md_title(const std::string& text) {
  std::string out;
  for (char c : md(text)) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

void markdown_context_table(std::ostream& out, const ReportModel& model) {
  using Field = std::string RunColumn::*;
  const std::vector<std::pair<const char*, Field>> fields = {
      {"label", &RunColumn::label},      {"date", &RunColumn::date},    {"kind", &RunColumn::kind},
      {"host", &RunColumn::host},        {"CPU", &RunColumn::cpu},      {"GPUs", &RunColumn::gpus},
      {"LibTorch", &RunColumn::torch},   {"CUDA", &RunColumn::cuda},    {"TF32", &RunColumn::tf32},
      {"build", &RunColumn::build_type}, {"status", &RunColumn::status}};
  std::vector<std::string> titles = {""};
  for (const RunColumn& run : model.runs)
    titles.push_back(md_title(run.name + (run.published() ? " (published)" : "")));
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, field] : fields) {
    std::vector<std::string> row = {name};
    for (const RunColumn& run : model.runs) row.push_back(md(run.*field));
    if (std::any_of(row.begin() + 1, row.end(), [](const std::string& cell) { return !cell.empty(); }))
      rows.push_back(row);
  }
  out << "## Runs\n\n" << markdown_table(titles, std::vector<bool>(titles.size(), false), rows) << "\n";
  bool any = false;
  for (const RunColumn& run : model.runs) {
    if (!run.published()) continue;
    if (!any) out << "> **Published figures measured by other code**, not by mlspeed:\n";
    any = true;
    out << "> - " << md(run.name) << ": " << md(run.citation) << "\n";
  }
  if (any) out << "\n";
}

void verdicts(std::ostream& out, const ReportModel& model) {
  if (model.verdicts.empty() && model.unchecked.empty()) return;
  out << "## Verification\n\n";
  for (const std::string& run : model.unchecked) out << "- " << md(run) << ": no checks, so no verdict\n";
  if (!model.unchecked.empty()) out << "\n";
  if (model.verdicts.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const VerdictCard& card : model.verdicts) {
    const verify::DeviceVerdict& v = card.verdict;
    rows.push_back({md(card.run), md(v.device), v.ok() ? "PASS" : "**FAIL**", std::to_string(v.run),
                    std::to_string(v.passed), std::to_string(v.failed + v.errors), std::to_string(v.not_tested),
                    std::to_string(v.skipped), std::to_string(v.known)});
  }
  out << markdown_table(
             {"run", "device", "verdict", "checks", "passed", "failed", "not tested", "skipped", "known issues"},
             {false, false, false, true, true, true, true, true, true}, rows)
      << "\n";
}

std::string cell(const Bar& bar) {
  std::string text = format_figure(bar.throughput);
  if (bar.speedup) text += printf_string(" (%.2f×)", *bar.speedup);
  if (bar.items_per_joule) text += " · " + format_figure(*bar.items_per_joule) + "/J";
  if (bar.scaling_efficiency) text += printf_string(" · scaling %.0f%%", 100 * *bar.scaling_efficiency);
  if (!bar.noise.empty() || !bar.throttle.empty()) text += " ⚠";
  return text;
}

void workload_table(std::ostream& out, const ReportModel& model, const WorkloadSection& w) {
  std::vector<size_t> series;  // those with a bar here, in model order
  for (const Bar& bar : w.bars)
    if (std::find(series.begin(), series.end(), bar.series) == series.end()) series.push_back(bar.series);
  std::sort(series.begin(), series.end());
  std::vector<std::string> titles = {"configuration"};
  for (size_t s : series)
    titles.push_back(md_title(model.series[s].name + (model.series[s].published ? " (published)" : "")));
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> noisy;
  for (size_t c = 0; c < w.categories.size(); ++c) {
    std::vector<std::string> row = {md(w.categories[c])};
    for (size_t s : series) {
      auto bar =
          std::find_if(w.bars.begin(), w.bars.end(), [&](const Bar& b) { return b.category == c && b.series == s; });
      row.push_back(bar == w.bars.end() ? "" : cell(*bar));
      if (bar != w.bars.end() && (!bar->noise.empty() || !bar->throttle.empty()))
        noisy.push_back(md(model.series[s].name + " " + w.categories[c] + ": " + bar->noise +
                           (bar->noise.empty() || bar->throttle.empty() ? "" : ", ") +
                           (bar->throttle.empty() ? "" : "throttled: " + bar->throttle)));
    }
    rows.push_back(row);
  }
  std::vector<bool> right(titles.size(), true);
  right[0] = false;
  out << "## " << md(w.workload) << "\n\n" << md(w.unit) << " at the median sample (higher is better)";
  if (!model.baseline.empty()) out << "; in brackets the speedup against " << md(model.baseline);
  if (std::any_of(w.bars.begin(), w.bars.end(), [](const Bar& b) { return b.items_per_joule.has_value(); }))
    out << "; after the dot, " << md(w.unit.substr(0, w.unit.find('/'))) << " per joule";
  out << ".\n\n";
  if (!rows.empty()) out << markdown_table(titles, right, rows) << "\n";
  if (!noisy.empty()) {
    out << "⚠ noisy samples (a coefficient of variation above 10%, outliers or few iterations) or a throttled "
           "clock:\n";
    for (const std::string& line : noisy) out << "- " << line << "\n";
    out << "\n";
  }
  if (!w.failures.empty()) {
    out << "Not measured:\n";
    for (const std::string& line : w.failures) out << "- " << md(line) << "\n";
    out << "\n";
  }
}

}  // namespace

std::string render_markdown(const ReportModel& model) {
  std::ostringstream out;
  std::vector<std::string> names;
  for (const RunColumn& run : model.runs) names.push_back(md(run.name));
  out << "# mlspeed report\n\n" << join(names, " · ") << " · generated " << md(model.generated_at) << "\n\n";
  markdown_context_table(out, model);
  verdicts(out, model);
  for (const WorkloadSection& w : model.workloads) workload_table(out, model, w);
  if (model.workloads.empty()) out << "No speed results in these runs.\n";
  return out.str();
}

}  // namespace mlspeed::report
