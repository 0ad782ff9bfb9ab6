// What a report shows, worked out once from the runs and then drawn by both renderers (the HTML
// page with its charts, html_report.h, and the markdown summary, markdown_report.h): each run's
// context side by side, the verify verdict of each device, and per workload the throughput of
// every configuration on every run and device with the spread of its samples, its utilisation and
// its speedup against the baseline.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/compare/loaded_run.h"
#include "mlspeed/compare/match_key.h"
#include "mlspeed/verify/verdict.h"

namespace mlspeed::report {

// One run as a column of the context table. Every field is text as shown ("on", "" when unknown).
struct RunColumn {
  std::string name;  // how it was named: "run 12", "ref:bert-t4"
  std::string kind;  // "run" or "verify"
  std::string label, date, status, command;
  std::string host, os, cpu, gpus, torch, cuda, blas, tf32, build_type;
  std::string citation;  // non-empty: published figures measured by other code
  bool published() const { return !citation.empty(); }
};

// One line of bars, drawn in one colour everywhere: a run on one device.
struct Series {
  std::string name;         // "run 12 · cuda:0"
  std::string device;       // "cuda:0"
  std::string device_name;  // "NVIDIA H200"
  size_t run = 0;           // index into ReportModel::runs
  bool published = false;
};

// One configuration measured by one series. Throughputs are items per second (the workload's
// unit): at the median sample, and at each quartile and extreme of the samples (empty without
// samples, e.g. a published figure, which has a median only).
struct Bar {
  size_t series = 0;
  size_t category = 0;  // index into WorkloadSection::categories
  double median_ms = 0;
  double throughput = 0;
  int n = 0;  // samples
  std::optional<double> min, q1, q3, max;
  std::optional<double> mfu, mbu;  // 0..1
  std::optional<double> speedup;   // throughput over the baseline's for the same configuration
  std::string noise;               // assess_noise's flag ("cv 12%"), empty when clean
  // Energy efficiency (run --energy): items per joule, the median of the rows'; and what held the
  // clock down while timing ("power-cap,thermal"), empty when nothing did.
  std::optional<double> items_per_joule;
  std::string throttle;
  // Data-parallel rows (run --ddp): throughput on N devices over N times one device's, the
  // median of the rows'.
  std::optional<double> scaling_efficiency;
};

struct WorkloadSection {
  std::string workload;
  std::string unit;                     // "tokens/s"
  std::vector<std::string> categories;  // "fp32 b4 s128", in configuration order
  std::vector<Bar> bars;
  std::vector<std::string> failures;  // rows with no figure: "run 3 · cpu fp32 b512: oom (...)"
};

struct VerdictCard {
  std::string run;  // the verify run's name
  verify::DeviceVerdict verdict;
};

struct ReportModel {
  std::vector<RunColumn> runs;
  std::vector<Series> series;
  std::vector<WorkloadSection> workloads;
  std::vector<VerdictCard> verdicts;
  // Verify runs holding no check: no verdict, which would read PASS from nothing verified.
  std::vector<std::string> unchecked;
  // What speedups are against, in words ("run 12", or "run 12 · cpu" within one run); empty when
  // nothing is compared.
  std::string baseline;
  std::string generated_at;
};

// `baseline`: the index in `runs` of the run the others are compared with (configurations matched
// on match_key with the device kind). With a single speed run, its devices are compared with its
// first device instead. Verify runs add verdict cards and a context column.
ReportModel build_report(const std::vector<LoadedRun>& runs, size_t baseline = 0);

// A figure as tables write it: 4 significant digits below 1000 ("568.5", "1.537"), whole numbers
// with thousands grouped above ("10,580"), never an exponent a reader has to decode.
std::string format_figure(double value);

// The category of a row on its workload's charts: dtype, shape, and size and "graph" when they
// are not the defaults ("bf16 b4 s128", "fp32 pp512 (small) graph").
std::string category_label(const MatchKey& key);

}  // namespace mlspeed::report
