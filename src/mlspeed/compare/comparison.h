// `mlspeed compare`: configurations set side by side in columns — runs A (the baseline), B, C …
// matched across runs by their MatchKey with the device kind (cuda:0 here ~ cuda:1 there), or the
// devices of one run (`--devices cpu,cuda:0`, the first listed the baseline) — and each column
// judged against the baseline from the raw samples:
//
//   faster / slower   the Mann–Whitney U test (mann_whitney.h) finds the samples differ (p < alpha)
//                     AND the median moved by more than the minimum effect (threshold), so that
//                     neither a tiny real change nor noise is called a change;
//   same              otherwise;
//   too few samples   the sample sizes are so small that no outcome could reach alpha (2 vs 2
//                     samples: p >= 0.33), so the test cannot tell and nothing is claimed;
//   published figure  either side is one published number measured by other code: the ratio is
//                     shown, no test was run, no change is claimed.
//
// Only `ok` rows have times; a failed configuration shows its status. Rows present in one column
// only are kept (the other cells are absent). Repetitions of one configuration within a run are
// pooled into one sample set.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/compare/loaded_run.h"
#include "mlspeed/compare/mann_whitney.h"
#include "mlspeed/compare/match_key.h"
#include "mlspeed/core/noise.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

struct CompareSettings {
  double alpha = 0.05;      // significance level of the U test (google-benchmark's default)
  double threshold = 0.05;  // minimum effect: |median / baseline median - 1| must exceed it
};

enum class Verdict { faster, slower, same, too_few_samples, published, not_compared };
std::string_view name(Verdict verdict);  // "faster", ..., "too few samples", "published figure", "not compared"

// One configuration in one column: its rows pooled.
struct Cell {
  bool present = false;          // the column has a row of this configuration
  Status status = Status::ok;    // ok when any of its rows is; else the first row's failure
  std::string message;           // the failure's message
  std::string device;            // the device its rows ran on ("cuda:0"; "cuda:0, cuda:1" when several)
  int rows = 0;                  // repetitions pooled
  std::vector<double> samples_ms;  // every timed sample of its ok rows
  double median_ms = 0;
  std::optional<double> items_per_s;  // at the median
  double items_per_step = 0;          // of its rows: the median time makes it a throughput
  std::string item_unit;              // "tokens", "samples"
  bool published = false;             // one figure published by other code, not samples
  NoiseReport noise;                  // of samples_ms (clean for a published figure)
  // The energy per item of each ok row that read it (run --energy): one value a row, so that
  // repetitions are samples for the same test as the times.
  std::vector<double> joules_per_item;
  std::optional<double> median_joules_per_item;

  bool timed() const { return present && status == Status::ok && median_ms > 0; }
};

// A column judged against the baseline column.
struct Change {
  std::optional<double> ratio;    // median time / baseline median time (above 1: slower)
  std::optional<double> speedup;  // baseline time / time (above 1: faster)
  std::optional<UTest> test;      // absent when no test was run (a published figure, a missing side)
  Verdict verdict = Verdict::not_compared;
  // Energy per item, judged by the same rule over the rows' values: faster reads "less energy",
  // slower "more energy".
  std::optional<double> energy_ratio;  // median J/item / baseline median J/item
  Verdict energy_verdict = Verdict::not_compared;
};

struct ComparedRow {
  MatchKey key;
  std::vector<Cell> cells;      // one per column
  std::vector<Change> changes;  // one per column; changes[0], the baseline's, is not_compared
};

// Per device kind (runs) or for the whole run (devices) and per non-baseline column.
struct ColumnSummary {
  std::string device;  // the device kind; empty when the columns are devices
  size_t column = 0;
  int compared = 0;    // configurations with a time on both sides
  int faster = 0, slower = 0, same = 0, undecided = 0;  // undecided: too few samples, published figures
  int noisy = 0;  // of the compared, those with a noisy side (core/noise.h)
  std::optional<double> geomean_speedup;  // over the compared configurations
};

struct Comparison {
  DeviceMatch match = DeviceMatch::kind;
  CompareSettings settings;
  std::vector<std::string> columns;  // run names ("run 12", "ref:bert-t4"), or device ids
  std::vector<ComparedRow> rows;     // in the order they first appear, baseline first
  std::vector<ColumnSummary> summaries;
  // Above the table: differences in context that make rows incomparable, and other warnings.
  std::vector<std::string> notes;
};

// Judges `other` against `baseline` (see the verdicts above): time, then energy per item.
Change judge(const Cell& baseline, const Cell& other, const CompareSettings& settings);
// "0.91x energy, less", "same energy (1.02x)", "1.20x energy, too few samples"; "" without energy.
std::string describe_energy(const Change& change);

// Runs side by side, the first the baseline. Every run must be a speed run (UsageError otherwise).
Comparison compare_runs(const std::vector<LoadedRun>& runs, const CompareSettings& settings);

// The devices of one speed run side by side, the first listed the baseline. UsageError for a
// device the run has no rows on, or one listed twice.
Comparison compare_devices(const LoadedRun& run, const std::vector<std::string>& devices,
                           const CompareSettings& settings);

// The gate (`--fail-if-slower PCT`): every configuration judged slower (significant, beyond the
// threshold) whose time grew by more than `percent`, in words: "bert-base-infer fp32 b1 s128 (cpu):
// run 13 is 23.0% slower than run 12 (p 0.0001)".
std::vector<std::string> slower_beyond(const Comparison& comparison, double percent);

}  // namespace mlspeed
