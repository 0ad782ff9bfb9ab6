#include "mlspeed/report/report_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/noise.h"
#include "mlspeed/core/precision.h"
#include "mlspeed/core/stats.h"
#include "mlspeed/core/text.h"

namespace mlspeed::report {
namespace {

bool is_speed_run(const LoadedRun& run) { return run.run.kind == RowType<Result>::kind; }
bool is_verify_run(const LoadedRun& run) { return run.run.kind == RowType<verify::CheckResult>::kind; }

RunColumn run_column(const LoadedRun& loaded) {
  const StoredRun& run = loaded.run;
  const HostFacts& host = run.context.host;
  std::vector<std::string> gpus;
  for (const DeviceFacts& device : run.context.devices)
    if (device.kind != "cpu") gpus.push_back(device.id + " " + device.name);
  RunColumn column;
  column.name = loaded.name;
  column.kind = run.kind.empty() ? RowType<Result>::kind : run.kind;
  column.label = run.label;
  column.date = run.started_at.empty() ? run.context.started_at : run.started_at;
  column.status = run.status;
  column.command = run.command.empty() ? run.context.command : run.command;
  column.host = host.hostname;
  column.os = host.os;
  column.cpu = host.cpu_model;
  if (host.physical_cores > 0)
    column.cpu +=
        " (" + std::to_string(host.physical_cores) + " cores, " + std::to_string(host.logical_cpus) + " threads)";
  column.gpus = gpus.empty() ? "none" : join(gpus, "; ");
  column.torch = host.torch_version;
  column.cuda = host.cuda_version;
  column.blas = host.blas;
  column.tf32 = loaded.published() ? "" : run.context.tf32_default ? "on" : "off";
  column.build_type = host.build_type + (host.sanitized ? " (sanitised)" : "");
  column.citation = loaded.citation;
  return column;
}

// Linear interpolation between the closest ranks (numpy's default), of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  const double position = q * double(sorted.size() - 1);
  const size_t below = size_t(position);
  if (below + 1 >= sorted.size()) return sorted.back();
  return sorted[below] + (position - double(below)) * (sorted[below + 1] - sorted[below]);
}

// Categories in the order a reader scans them: size, then dtype from the widest (fp32, tf32,
// fp16, bf16), then the shape.
struct CategoryOrder {
  static int rank(const std::string& dtype) {
    const auto precision = parse_precision(dtype);
    return precision ? int(*precision) : 100;
  }
  bool operator()(const MatchKey& a, const MatchKey& b) const {
    return std::make_tuple(a.size, rank(a.dtype), a.dtype, a.weights, a.kernels, a.batch, a.seq_len, a.new_tokens,
                           a.depth, a.world_size, a.timing) <
           std::make_tuple(b.size, rank(b.dtype), b.dtype, b.weights, b.kernels, b.batch, b.seq_len, b.new_tokens,
                           b.depth, b.world_size, b.timing);
  }
};

// The rows of one series for one configuration: repetitions (`run -r N`) pool their samples.
struct Group {
  size_t series = 0;
  std::vector<const Result*> rows;
};

// A workload's configurations (without the device), each with the series that measured it.
using Configurations = std::map<MatchKey, std::vector<Group>, CategoryOrder>;

// `published`: figures from another source, often one mean per configuration; mlspeed's noise
// flags (few iterations, ...) judge its own sampling and would only mislabel them.
Bar make_bar(const Group& group, size_t category, bool published) {
  const Result& first = *group.rows.front();
  std::vector<double> samples;
  for (const Result* row : group.rows) samples.insert(samples.end(), row->samples_ms.begin(), row->samples_ms.end());
  Bar bar;
  bar.series = group.series;
  bar.category = category;
  bar.mfu = first.mfu;
  bar.mbu = first.mbu;
  std::vector<double> per_joule, scaling;
  for (const Result* row : group.rows) {
    if (row->items_per_joule) per_joule.push_back(*row->items_per_joule);
    if (row->scaling_efficiency) scaling.push_back(*row->scaling_efficiency);
    if (!row->throttle.empty() && (", " + bar.throttle + ", ").find(", " + row->throttle + ", ") == std::string::npos)
      bar.throttle += (bar.throttle.empty() ? "" : ", ") + row->throttle;
  }
  if (!per_joule.empty()) bar.items_per_joule = median(per_joule);
  if (!scaling.empty()) bar.scaling_efficiency = median(scaling);
  bar.n = int(samples.size());
  if (samples.empty() || first.items_per_step <= 0) {
    // A published figure: its median (and throughput) only.
    bar.median_ms = first.summary.median;
    bar.throughput = first.items_per_s   ? *first.items_per_s
                     : bar.median_ms > 0 ? first.items_per_step * 1e3 / bar.median_ms
                                         : 0;
    return bar;
  }
  bar.median_ms = median(samples);
  const auto per_second = [&](double ms) { return first.items_per_step * 1e3 / ms; };
  bar.throughput = per_second(bar.median_ms);
  // Throughput falls as time rises, so the slowest sample is the lowest throughput.
  std::sort(samples.begin(), samples.end());
  bar.min = per_second(samples.back());
  bar.max = per_second(samples.front());
  bar.q1 = per_second(quantile(samples, 0.75));
  bar.q3 = per_second(quantile(samples, 0.25));
  if (!published) bar.noise = assess_noise(samples).flag();
  return bar;
}

bool has_figure(const Result& row) {
  return row.status == Status::ok && (row.summary.median > 0 || (row.items_per_s && *row.items_per_s > 0));
}

std::string failure_line(const Series& series, const Result& row) {
  std::string why = std::string(name(row.status));
  if (row.status == Status::ok) why = "no timed samples";
  if (!row.message.empty()) why += ": " + printable(row.message);
  return series.name + " " + category_label(match_key(row, DeviceMatch::none)) + " — " + why;
}

class Builder {
 public:
  Builder(const std::vector<LoadedRun>& runs, ReportModel& model) : runs_(runs), model_(model) {}

  void add_rows() {
    for (size_t r = 0; r < runs_.size(); ++r) {
      if (!is_speed_run(runs_[r])) continue;
      for (const Result& row : runs_[r].rows<Result>()) add_row(r, row);
    }
    // Every workload a row named, also one whose rows all failed (its section lists them).
    for (auto& [workload, section] : sections_) finish_section(section, groups_[workload]);
  }

 private:
  size_t series_of(size_t run, const Result& row) {
    for (size_t s = 0; s < model_.series.size(); ++s)
      if (model_.series[s].run == run && model_.series[s].device == row.device) return s;
    Series series;
    series.name = runs_[run].name + " · " + row.device;
    series.device = row.device;
    series.device_name = row.device_facts.name;
    series.run = run;
    series.published = runs_[run].published();
    model_.series.push_back(series);
    return model_.series.size() - 1;
  }

  void add_row(size_t run, const Result& row) {
    const size_t series = series_of(run, row);
    auto& section = sections_[row.workload];
    section.workload = row.workload;
    if (section.unit.empty() && !row.item_unit.empty()) section.unit = row.item_unit + "/s";
    if (!has_figure(row)) {
      section.failures.push_back(failure_line(model_.series[series], row));
      return;
    }
    auto& groups = groups_[row.workload][match_key(row, DeviceMatch::none)];
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.series == series; });
    if (it == groups.end())
      groups.push_back(Group{series, {&row}});
    else
      it->rows.push_back(&row);
  }

  void finish_section(WorkloadSection& section, const Configurations& groups) {
    for (const auto& [key, series_groups] : groups) {
      section.categories.push_back(category_label(key));
      for (const Group& group : series_groups)
        section.bars.push_back(make_bar(group, section.categories.size() - 1, model_.series[group.series].published));
    }
    model_.workloads.push_back(std::move(section));
  }

  const std::vector<LoadedRun>& runs_;
  ReportModel& model_;
  std::map<std::string, WorkloadSection> sections_;
  // workload -> configuration (without the device) -> the series that measured it, in run order.
  std::map<std::string, Configurations> groups_;
};

// What a bar is matched on against the baseline: its configuration (the category) plus, across
// runs, the kind of device (cuda:0 here is compared with cuda:0 or cuda:3 there, never the CPU).
using BaselineKey = std::pair<size_t, std::string>;

// Speedups against one series per device kind (across runs), or against one series (within a run).
void add_speedups(ReportModel& model, const std::vector<LoadedRun>& runs, size_t baseline_run) {
  const bool within_run = std::count_if(runs.begin(), runs.end(), is_speed_run) == 1;
  auto device_of = [&](const Series& s) { return within_run ? std::string() : device_kind(s.device); };
  std::vector<size_t> baseline_series;
  for (size_t s = 0; s < model.series.size(); ++s)
    if (model.series[s].run == baseline_run && (!within_run || baseline_series.empty())) baseline_series.push_back(s);
  if (baseline_series.empty()) return;
  model.baseline = within_run ? model.series[baseline_series.front()].name : runs[baseline_run].name;
  auto is_baseline = [&](size_t s) { return std::count(baseline_series.begin(), baseline_series.end(), s) > 0; };
  bool any = false;
  for (WorkloadSection& section : model.workloads) {
    std::map<BaselineKey, double> reference;  // first baseline bar of each configuration and device kind
    for (const Bar& bar : section.bars)
      if (is_baseline(bar.series))
        reference.emplace(BaselineKey{bar.category, device_of(model.series[bar.series])}, bar.throughput);
    for (Bar& bar : section.bars) {
      if (is_baseline(bar.series)) continue;
      auto it = reference.find(BaselineKey{bar.category, device_of(model.series[bar.series])});
      if (it == reference.end() || it->second <= 0) continue;
      bar.speedup = bar.throughput / it->second;
      any = true;
    }
  }
  if (!any) model.baseline.clear();
}

}  // namespace

std::string format_figure(double value) {
  if (!(std::fabs(value) >= 1000) || std::fabs(value) >= 1e15) return printf_string("%.4g", value);
  std::string digits = printf_string("%.0f", std::fabs(value));
  for (size_t at = digits.size(); at > 3; at -= 3) digits.insert(at - 3, ",");
  return (value < 0 ? "-" : "") + digits;
}

std::string category_label(const MatchKey& key) {
  std::string text = key.dtype + " ";
  const std::optional<ModelFormat> weights = parse_model_format(key.weights);
  if (weights && is_quantized(*weights)) text += key.weights + " ";  // q4_0 and q8_0 rows apart
  text += key.shape;
  if (key.size != "full" && !key.size.empty()) text += " (" + key.size + ")";
  if (key.timing == "graph") text += " graph";
  if (key.kernels == "libtorch") text += " libtorch kernels";
  if (key.world_size > 0) text += " ddp x" + std::to_string(key.world_size);
  return text;
}

ReportModel build_report(const std::vector<LoadedRun>& runs, size_t baseline) {
  for (const LoadedRun& run : runs)
    if (!is_speed_run(run) && !is_verify_run(run))
      throw UsageError(run.name + " is a " + run.run.kind + " run: a report shows speed runs and verify runs (`mlspeed show " +
                       (run.run.id > 0 ? std::to_string(run.run.id) : run.name) + "` prints it)");
  ReportModel model;
  model.generated_at = now_iso8601();
  for (const LoadedRun& run : runs) model.runs.push_back(run_column(run));
  Builder(runs, model).add_rows();
  for (const LoadedRun& run : runs) {
    if (!is_verify_run(run)) continue;
    const std::vector<verify::CheckResult>& checks = run.rows<verify::CheckResult>();
    if (checks.empty()) model.unchecked.push_back(run.name);
    for (verify::DeviceVerdict& verdict : verify::summarise(checks)) model.verdicts.push_back({run.name, verdict});
  }
  if (baseline >= runs.size() || !is_speed_run(runs[baseline])) {
    auto first = std::find_if(runs.begin(), runs.end(), is_speed_run);
    baseline = size_t(first - runs.begin());
  }
  if (baseline < runs.size()) add_speedups(model, runs, baseline);
  return model;
}

}  // namespace mlspeed::report
