#include "mlspeed/compare/comparison.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "mlspeed/compare/context_differences.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/stats.h"
#include "mlspeed/core/text.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed {
namespace {

// A published figure may come as one sample or as a summary only.
double row_median(const Result& row) { return row.samples_ms.empty() ? row.summary.median : median(row.samples_ms); }

void add_row(Cell& cell, const Result& row, bool published) {
  if (!cell.present) {
    cell.present = true;
    cell.status = row.status;
    cell.message = row.message;
    cell.device = row.device;
    cell.item_unit = row.item_unit;
  } else if ((", " + cell.device + ", ").find(", " + row.device + ", ") == std::string::npos) {
    cell.device += ", " + row.device;
  }
  ++cell.rows;
  cell.published = published;
  if (row.status != Status::ok) return;
  if (cell.status != Status::ok) {  // an ok repetition outweighs a failed one
    cell.status = Status::ok;
    cell.message.clear();
  }
  if (published && row.samples_ms.empty()) cell.samples_ms.push_back(row_median(row));
  else cell.samples_ms.insert(cell.samples_ms.end(), row.samples_ms.begin(), row.samples_ms.end());
  if (published) cell.items_per_s = row.items_per_s;
  cell.items_per_step = row.items_per_step;
  if (row.joules_per_item) cell.joules_per_item.push_back(*row.joules_per_item);
}

void finish_cell(Cell& cell) {
  if (!cell.present || cell.status != Status::ok || cell.samples_ms.empty()) return;
  cell.median_ms = median(cell.samples_ms);
  // A published figure may state its own throughput; ours follows from the pooled median.
  if (!cell.items_per_s && cell.items_per_step > 0 && cell.median_ms > 0)
    cell.items_per_s = cell.items_per_step / (cell.median_ms / 1000);
  if (!cell.published) cell.noise = assess_noise(cell.samples_ms);
  if (!cell.joules_per_item.empty()) cell.median_joules_per_item = median(cell.joules_per_item);
}

// The verdict of two sets of samples whose medians' ratio is `ratio` (above 1: more).
Verdict judge_samples(const std::vector<double>& baseline, const std::vector<double>& other, double ratio,
                      const CompareSettings& settings, std::optional<UTest>* test_out = nullptr) {
  const UTest test = mann_whitney_u(baseline, other);
  if (test_out) *test_out = test;
  if (smallest_p_value(static_cast<int>(baseline.size()), static_cast<int>(other.size())) >= settings.alpha)
    return Verdict::too_few_samples;
  if (test.p < settings.alpha && std::abs(ratio - 1) > settings.threshold)
    return ratio > 1 ? Verdict::slower : Verdict::faster;
  return Verdict::same;
}

// The rows of each column pooled by key, in the order keys first appear.
struct Table {
  std::vector<MatchKey> keys;
  std::map<MatchKey, std::vector<Cell>> cells;
};

void add_to_table(Table& table, size_t columns, size_t column, const MatchKey& key, const Result& row,
                  bool published) {
  auto [it, inserted] = table.cells.try_emplace(key, std::vector<Cell>(columns));
  if (inserted) table.keys.push_back(key);
  add_row(it->second[column], row, published);
}

Comparison judge_table(Table table, Comparison comparison) {
  for (const MatchKey& key : table.keys) {
    ComparedRow row{key, std::move(table.cells[key]), {}};
    for (Cell& cell : row.cells) finish_cell(cell);
    row.changes.resize(row.cells.size());
    for (size_t c = 1; c < row.cells.size(); ++c) row.changes[c] = judge(row.cells[0], row.cells[c], comparison.settings);
    comparison.rows.push_back(std::move(row));
  }
  return comparison;
}

void summarise_changes(Comparison& comparison) {
  std::map<std::pair<std::string, size_t>, std::vector<double>> speedups;
  std::map<std::pair<std::string, size_t>, ColumnSummary> summaries;
  for (const ComparedRow& row : comparison.rows) {
    for (size_t c = 1; c < row.changes.size(); ++c) {
      const Change& change = row.changes[c];
      if (!change.speedup) continue;
      ColumnSummary& s = summaries[{row.key.device, c}];
      s.device = row.key.device;
      s.column = c;
      ++s.compared;
      speedups[{row.key.device, c}].push_back(std::log(*change.speedup));
      if (change.verdict == Verdict::faster) ++s.faster;
      else if (change.verdict == Verdict::slower) ++s.slower;
      else if (change.verdict == Verdict::same) ++s.same;
      else ++s.undecided;
      if (row.cells[0].noise.noisy() || row.cells[c].noise.noisy()) ++s.noisy;
    }
  }
  for (auto& [where, summary] : summaries) {
    const std::vector<double>& logs = speedups[where];
    summary.geomean_speedup = std::exp(mean(logs));
    comparison.summaries.push_back(summary);
  }
  std::sort(comparison.summaries.begin(), comparison.summaries.end(),
            [](const ColumnSummary& a, const ColumnSummary& b) { return std::tie(a.column, a.device) < std::tie(b.column, b.device); });
}

// google-benchmark's compare.py warns that U tests on fewer than 9 repetitions are unreliable.
void warn_few_samples(Comparison& comparison) {
  int fewest = kOptimalSamples;
  for (const ComparedRow& row : comparison.rows)
    for (size_t c = 1; c < row.changes.size(); ++c)
      if (row.changes[c].test)
        fewest = std::min({fewest, static_cast<int>(row.cells[0].samples_ms.size()),
                           static_cast<int>(row.cells[c].samples_ms.size())});
  if (fewest < kOptimalSamples)
    comparison.notes.push_back("some configurations have only " + std::to_string(fewest) +
                               " samples a side: the U test needs " + std::to_string(kOptimalSamples) +
                               "+ to be reliable (google-benchmark's compare.py); time more iterations (run -n)");
}

void require_speed_run(const LoadedRun& run) {
  if (run.run.kind == RowType<Result>::kind) return;
  throw UsageError(run.name + " is a " + run.run.kind + " run (`mlspeed " + run.run.kind +
                   "`): compare takes speed runs (`mlspeed run`); `mlspeed show " +
                   (run.run.id > 0 ? std::to_string(run.run.id) : run.name) + "` prints its " + RowKinds::noun(run.run.kind) + "s");
}

bool replayed(const Result& row) { return row.graphs == GraphUse::step || row.graphs == GraphUse::tokens; }

}  // namespace

std::string_view name(Verdict verdict) {
  switch (verdict) {
    case Verdict::faster: return "faster";
    case Verdict::slower: return "slower";
    case Verdict::same: return "same";
    case Verdict::too_few_samples: return "too few samples";
    case Verdict::published: return "published figure";
    case Verdict::not_compared: break;
  }
  return "not compared";
}

Change judge(const Cell& baseline, const Cell& other, const CompareSettings& settings) {
  Change change;
  if (!baseline.timed() || !other.timed()) return change;
  change.ratio = other.median_ms / baseline.median_ms;
  change.speedup = baseline.median_ms / other.median_ms;
  if (baseline.published || other.published) {
    change.verdict = Verdict::published;
    return change;
  }
  change.verdict = judge_samples(baseline.samples_ms, other.samples_ms, *change.ratio, settings, &change.test);
  if (baseline.median_joules_per_item && other.median_joules_per_item && *baseline.median_joules_per_item > 0) {
    change.energy_ratio = *other.median_joules_per_item / *baseline.median_joules_per_item;
    change.energy_verdict =
        judge_samples(baseline.joules_per_item, other.joules_per_item, *change.energy_ratio, settings);
  }
  return change;
}

std::string describe_energy(const Change& change) {
  if (!change.energy_ratio) return "";
  const double r = *change.energy_ratio;
  switch (change.energy_verdict) {
    case Verdict::faster: return printf_string("%.2fx energy, less", r);
    case Verdict::slower: return printf_string("%.2fx energy, more", r);
    case Verdict::same: return printf_string("same energy (%.2fx)", r);
    case Verdict::too_few_samples: return printf_string("%.2fx energy, too few samples", r);
    default: return printf_string("%.2fx energy", r);
  }
}

Comparison compare_runs(const std::vector<LoadedRun>& runs, const CompareSettings& settings) {
  Comparison comparison;
  comparison.match = DeviceMatch::kind;
  comparison.settings = settings;
  // Published figures come from eager scripts and say nothing of graphs: against them, a row is
  // matched whatever its timing, and a note says when ours replayed graphs.
  const bool any_published = std::any_of(runs.begin(), runs.end(), [](const LoadedRun& r) { return r.published(); });
  Table table;
  for (size_t c = 0; c < runs.size(); ++c) {
    require_speed_run(runs[c]);
    if (any_published && !runs[c].published() && std::any_of(runs[c].rows<Result>().begin(), runs[c].rows<Result>().end(), replayed))
      comparison.notes.push_back(runs[c].name + " replayed CUDA graphs, the published figures are eager PyTorch "
                                 "scripts: the ratio includes what graphs save in kernel launches (`mlspeed run "
                                 "--graphs off` times what such a script sees)");
    comparison.columns.push_back(runs[c].name);
    std::map<MatchKey, std::set<std::string>> devices;  // to warn when one kind has several devices
    for (const Result& row : runs[c].rows<Result>()) {
      MatchKey key = match_key(row, DeviceMatch::kind);
      if (any_published) key.timing.clear();
      devices[key].insert(row.device);
      add_to_table(table, runs.size(), c, key, row, runs[c].published());
    }
    std::set<std::string> pooled;
    for (const auto& [key, ids] : devices)
      if (ids.size() > 1) pooled.insert(join({ids.begin(), ids.end()}, ", "));
    for (const std::string& ids : pooled)
      comparison.notes.push_back(runs[c].name + " has rows of one configuration on " + ids +
                                 ": their samples are pooled; `compare RUN --devices` sets them side by side");
  }
  comparison = judge_table(std::move(table), std::move(comparison));
  for (std::string& note : context_differences(runs)) comparison.notes.push_back(std::move(note));
  warn_few_samples(comparison);
  summarise_changes(comparison);
  return comparison;
}

Comparison compare_devices(const LoadedRun& run, const std::vector<std::string>& devices,
                           const CompareSettings& settings) {
  require_speed_run(run);
  std::set<std::string> in_run;
  for (const Result& row : run.rows<Result>()) in_run.insert(row.device);
  Comparison comparison;
  comparison.match = DeviceMatch::none;
  comparison.settings = settings;
  for (const std::string& device : devices) {
    if (std::count(devices.begin(), devices.end(), device) > 1)
      throw UsageError("--devices: " + device + " is listed twice");
    if (!in_run.count(device))
      throw UsageError("--devices: " + run.name + " has no rows on " + device + "; its devices: " +
                       (in_run.empty() ? "none (it has no rows)" : join({in_run.begin(), in_run.end()}, ", ")));
    comparison.columns.push_back(device);
  }
  Table table;
  for (const Result& row : run.rows<Result>()) {
    const auto it = std::find(devices.begin(), devices.end(), row.device);
    if (it == devices.end()) continue;
    add_to_table(table, devices.size(), it - devices.begin(), match_key(row, DeviceMatch::none), row, run.published());
  }
  comparison = judge_table(std::move(table), std::move(comparison));
  for (std::string& note : context_differences({run})) comparison.notes.push_back(std::move(note));
  warn_few_samples(comparison);
  summarise_changes(comparison);
  return comparison;
}

std::vector<std::string> slower_beyond(const Comparison& comparison, double percent) {
  std::vector<std::string> lines;
  for (const ComparedRow& row : comparison.rows) {
    for (size_t c = 1; c < row.changes.size(); ++c) {
      const Change& change = row.changes[c];
      if (change.verdict != Verdict::slower || (*change.ratio - 1) * 100 <= percent) continue;
      lines.push_back(describe(row.key) + ": " + comparison.columns[c] + " is " +
                      printf_string("%.1f%% slower than ", (*change.ratio - 1) * 100) + comparison.columns[0] +
                      printf_string(" (median %.4g ms vs %.4g ms, p %.2g)", row.cells[c].median_ms,
                                    row.cells[0].median_ms, change.test->p) +
                      (row.cells[0].noise.noisy() || row.cells[c].noise.noisy() ? "; its samples are noisy" : ""));
    }
  }
  return lines;
}

}  // namespace mlspeed
