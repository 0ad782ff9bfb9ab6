// The md table shows a person's view of the rows: the configuration, the outcome and the figures
// worth comparing, formatted with units. Every cell is read through the field list (by field
// name), so "unknown" means the same here as a JSON null or an empty CSV cell.
//
// Two layouts. The default (narrow) one fits a 120-column terminal and has the same eight columns
// for every run, as llama-bench's table does: the configuration in four (its shape as one test
// label, "b4 s128", "pp512", "tg128"; and the weight format when a row's weights are quantised),
// then median ± sd, throughput, MFU and the noise flag. A
// failed row shows its status in place of the time. `--wide` shows every column that carries
// information for the rows (batch, seq, graphs, TFLOP/s, the generation split, the memory
// roofline, job time, peak memory), which is what the narrow table leaves out.
#include "mlspeed/results/markdown_printer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <tuple>

#include "mlspeed/core/noise.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/shape_label.h"

namespace mlspeed {
namespace {

constexpr const char* kNoValue = "-";

Value value(const Result& r, std::string_view field) {
  const Field* f = find_field(field);
  if (!f) throw std::logic_error("md printer: no result field named '" + std::string(field) + "'");
  return f->get(r);
}

std::optional<double> number_of(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

std::string text_of(const Value& v) {
  const auto* s = std::get_if<std::string>(&v);
  return s && !s->empty() ? *s : kNoValue;
}

std::string whole(const Value& v) {
  const auto x = number_of(v);
  return x ? printf_string("%.0f", *x) : kNoValue;
}

// Three significant digits without an exponent: "1234", "12.3", "0.0123".
int decimals_for(double x) {
  if (x == 0 || !std::isfinite(x)) return 2;
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(x))));
  return std::clamp(2 - magnitude, 0, 6);
}

std::string significant(const Value& v) {
  const auto x = number_of(v);
  return x ? printf_string("%.*f", decimals_for(*x), *x) : kNoValue;
}

std::string ms_per_iteration(const Result& r) {
  const auto n = number_of(value(r, "iterations"));
  const auto median = number_of(value(r, "median_ms"));
  if (!n || *n < 1 || !median) return kNoValue;
  const auto spread = number_of(value(r, "stddev_ms"));
  const bool with_spread = *n >= 2 && spread;
  // Three significant digits of the median, more when the spread needs them to be seen at all: a
  // quiet GPU row reads "31.18 ± 0.02", not "31.2 ± 0.0".
  int decimals = decimals_for(*median);
  if (with_spread && *spread > 0) decimals = std::max(decimals, std::min(decimals_for(*spread) - 2, 6));
  std::string out = printf_string("%.*f", decimals, *median);
  if (with_spread) out += printf_string(" ± %.*f", decimals, *spread);
  return out;
}

// Three significant digits, as the other figures, with a k/M/G suffix: "196", "4.54k", "133k".
std::string count_figure(double x) {
  const char* suffix[] = {"", "k", "M", "G", "T"};
  int s = 0;
  while (std::fabs(x) >= 999.5 && s < 4) x /= 1000, ++s;
  return printf_string("%.*f%s", decimals_for(x), x, suffix[s]);
}

std::string throughput(const Result& r) {
  const auto per_s = number_of(value(r, "items_per_s"));
  if (!per_s) return kNoValue;
  const std::string unit = text_of(value(r, "item_unit"));
  return count_figure(*per_s) + " " + (unit == kNoValue ? "items" : unit) + "/s";
}

std::string percent(const Value& v) {
  const auto x = number_of(v);
  return x ? printf_string("%.1f%%", *x * 100) : kNoValue;
}

std::string peak_memory_cell(const Result& r) {
  const auto bytes = number_of(value(r, "peak_memory_bytes"));
  return bytes ? format_bytes(*bytes) : kNoValue;
}

std::string sequence(const Result& r) {
  const auto seq = number_of(value(r, "seq_len"));
  return seq && *seq == 0 ? "" : whole(value(r, "seq_len"));
}

struct TableColumn {
  std::string title;
  bool numeric;        // right-aligned
  bool configuration;  // names the configuration in failure lines
  std::function<std::string(const Result&)> cell;
  // Whether the column carries information for these rows; nullptr = always.
  std::function<bool(const std::vector<Result>&)> shown;
  // A figure only the wide table has (the narrow one names the configuration and status its own way).
  bool wide_only = false;
};

constexpr const char* kMedianTitle = "median ms ± sd";  // per timed iteration

std::function<std::string(const Result&)> field_text(std::string field) {
  return [field](const Result& r) { return text_of(value(r, field)); };
}

bool any_size_not_full(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Result& r) { return text_of(value(r, "size")) != "full"; });
}

// Whether any row has a value (not null, not zero) in `field`.
std::function<bool(const std::vector<Result>&)> any_value(std::string field) {
  return [field](const std::vector<Result>& rows) {
    return std::any_of(rows.begin(), rows.end(), [&](const Result& r) { return number_of(value(r, field)).value_or(0) != 0; });
  };
}

std::string new_tokens(const Result& r) {
  const auto n = number_of(value(r, "new_tokens"));
  return n && *n == 0 ? "" : whole(value(r, "new_tokens"));
}

std::string depth_cell(const Result& r) { return r.depth == 0 ? "" : std::to_string(r.depth); }

// Data parallelism: "x2" for two devices training together ("x1": one rank), empty for a row that was not.
std::string world_size_cell(const Result& r) { return is_data_parallel(r) ? "x" + std::to_string(r.world_size) : ""; }
bool any_data_parallel(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), is_data_parallel);
}

// llama-bench's model columns: "llama 7B Q4_0", "3.56 GiB", "6.74 B".
bool any_model(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Result& r) { return !r.model.empty(); });
}
std::string model_size_cell(const Result& r) {
  return r.model_bytes > 0 ? printf_string("%.2f GiB", double(r.model_bytes) / double(1ull << 30)) : kNoValue;
}
std::string model_params_cell(const Result& r) {
  return r.model.empty() ? kNoValue : printf_string("%.2f B", double(r.parameters) / 1e9);
}

std::string ms_cell(const Value& v) {
  const auto x = number_of(v);
  return x ? printf_string("%.*f", decimals_for(*x), *x) : kNoValue;
}

// "21.4 s / 50 steps"
std::string job_time(const Result& r) {
  const auto s = number_of(value(r, "job_s"));
  if (!s) return kNoValue;
  return printf_string("%.*f s / %s steps", decimals_for(*s), *s, whole(value(r, "steps_per_job")).c_str());
}

// Graphs are worth a column once any row used them or fell back from them.
bool any_graphs(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Result& r) { return text_of(value(r, "graphs")) != "off"; });
}

// How the weights were stored, worth a column once a row's were quantised (or stored in another
// dtype than their computation's): otherwise the dtype says it.
std::string weights_cell(const Result& r) { return std::string(name(stored_weights(r))); }

bool any_stored_apart(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Result& r) {
    return stored_weights(r) != weight_format(Numerics(r.precision), r.job);
  });
}

// Whose kernels ran, worth a column of the wide table once a row ran LibTorch's alone (run
// --kernels libtorch; the context says so above the narrow one).
bool any_libtorch_kernels(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Result& r) { return r.kernels != KernelSet::mlspeed; });
}
std::string kernels_cell(const Result& r) { return std::string(name(r.kernels)); }

bool any_repetition(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(),
                     [](const Result& r) { return number_of(value(r, "repetition")).value_or(0) > 0; });
}

// The noise flag of an ok row (core/noise.h); a row stored before the flag existed is judged from
// its samples here.
std::string noise(const Result& r) {
  if (text_of(value(r, "status")) != "ok") return "";
  const Value flag = value(r, "noise");
  if (const auto* stored = std::get_if<std::string>(&flag); stored && !stored->empty()) return *stored;
  const Value samples = value(r, "samples_ms");
  const auto* xs = std::get_if<std::vector<double>>(&samples);
  return xs ? assess_noise(*xs).flag() : "";
}

// Energy per item in the row's unit: "0.52 J/token".
std::string joules_per_item_cell(const Result& r) {
  if (!r.joules_per_item) return kNoValue;
  std::string unit = r.item_unit.empty() ? "item" : r.item_unit;
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  return significant(Value(*r.joules_per_item)) + " J/" + unit;
}

// The clocks sampled while timing: "1500/1980" (slowest/median, MHz).
std::string clock_cell(const Result& r) {
  if (!r.clock_median_mhz) return kNoValue;
  return printf_string("%.0f/%.0f", r.clock_min_mhz.value_or(*r.clock_median_mhz), *r.clock_median_mhz);
}

bool any_throttle(const std::vector<Result>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const Result& r) { return !r.throttle.empty(); });
}

const std::vector<TableColumn>& wide_columns() {
  static const std::vector<TableColumn> table = {
      {"workload", false, true, field_text("workload"), nullptr},
      {"size", false, true, field_text("size"), any_size_not_full},
      {"device", false, true, field_text("device"), nullptr},
      {"dtype", false, true, field_text("dtype"), nullptr},
      {"weights", false, true, weights_cell, any_stored_apart},
      {"kernels", false, true, kernels_cell, any_libtorch_kernels, true},
      {"model", false, false, [](const Result& r) { return r.model.empty() ? kNoValue : r.model; }, any_model, true},
      {"model size", true, false, model_size_cell, any_model, true},
      {"params", true, false, model_params_cell, any_model, true},
      {"batch", true, true, [](const Result& r) { return whole(value(r, "batch")); }, nullptr},
      {"seq", true, true, sequence, nullptr},
      {"gen", true, true, new_tokens, any_value("new_tokens")},
      {"depth", true, true, depth_cell, any_value("depth")},
      {"rep", true, true, [](const Result& r) { return whole(value(r, "repetition")); }, any_repetition},
      {"ddp", true, true, world_size_cell, any_data_parallel},
      {"graphs", false, false, field_text("graphs"), any_graphs, true},
      {"status", false, false, field_text("status"), nullptr},
      {kMedianTitle, true, false, ms_per_iteration, nullptr},
      {"throughput", true, false, throughput, nullptr},
      {"TFLOP/s", true, false, [](const Result& r) { return significant(value(r, "tflops")); }, nullptr, true},
      {"MFU", true, false, [](const Result& r) { return percent(value(r, "mfu")); }, nullptr},
      {"first token ms", true, false, [](const Result& r) { return ms_cell(value(r, "first_token_ms")); },
       any_value("first_token_ms"), true},
      {"ms/token", true, false, [](const Result& r) { return ms_cell(value(r, "ms_per_token")); }, any_value("ms_per_token"),
       true},
      {"GB/s", true, false, [](const Result& r) { return significant(value(r, "gbps")); }, any_value("gbps"), true},
      {"MBU", true, false, [](const Result& r) { return percent(value(r, "mbu")); }, any_value("mbu"), true},
      {"weight kernels", false, false, [](const Result& r) { return r.weight_kernels.empty() ? kNoValue : r.weight_kernels; },
       [](const std::vector<Result>& rows) {
         return std::any_of(rows.begin(), rows.end(), [](const Result& r) { return !r.weight_kernels.empty(); });
       },
       true},
      {"W", true, false, [](const Result& r) { return significant(value(r, "watts")); }, any_value("watts"), true},
      {"energy", true, false, joules_per_item_cell, any_value("joules_per_item"), true},
      {"clock MHz", true, false, clock_cell, any_value("clock_median_mhz"), true},
      {"throttle", false, false, [](const Result& r) { return r.throttle.empty() ? kNoValue : r.throttle; },
       any_throttle, true},
      {"job", true, false, job_time, any_value("job_s"), true},
      {"scaling", true, false, [](const Result& r) { return percent(value(r, "scaling_efficiency")); },
       any_value("scaling_efficiency")},
      {"busbw GB/s", true, false, [](const Result& r) { return significant(value(r, "allreduce_busbw_gb_s")); },
       any_value("allreduce_busbw_gb_s"), true},
      {"peak memory", true, false, peak_memory_cell, nullptr, true},
      {"noise", false, false, noise, nullptr},
  };
  return table;
}

// The test label, with what tells the rows apart when a run has more than shapes: a size other
// than the published model's ("tiny b4 s128"), the repetition when there are several, and the
// devices training together ("b12 s1024 ddp x2").
std::string test_label(const Result& r, bool repeats) {
  std::string label = shape_label(r);
  const std::string size = text_of(value(r, "size"));
  if (size != "full" && size != kNoValue) label = size + " " + label;
  if (repeats) label += " rep " + whole(value(r, "repetition"));
  if (is_data_parallel(r)) label += " ddp x" + std::to_string(r.world_size);
  return label;
}

// The median, or why there is none.
std::string median_or_status(const Result& r) {
  const std::string status = text_of(value(r, "status"));
  return status == "ok" ? ms_per_iteration(r) : status;
}

std::vector<TableColumn> narrow_columns(bool repeats) {
  return {
      {"workload", false, true, field_text("workload"), nullptr},
      {"device", false, true, field_text("device"), nullptr},
      {"dtype", false, true, field_text("dtype"), nullptr},
      {"weights", false, true, weights_cell, any_stored_apart},
      {"test", false, true, [repeats](const Result& r) { return test_label(r, repeats); }, nullptr},
      {kMedianTitle, true, false, median_or_status, nullptr},
      {"throughput", true, false, throughput, nullptr},
      {"MFU", true, false, [](const Result& r) { return percent(value(r, "mfu")); }, nullptr},
      {"noise", false, false, noise, nullptr},
  };
}

std::string configuration(const Result& r, const std::vector<const TableColumn*>& shown) {
  std::vector<std::string> config;
  for (const TableColumn* column : shown) {
    const std::string cell = column->cell(r);
    if (column->configuration && !cell.empty()) config.push_back(column->title + " " + one_line(cell));
  }
  return join(config, ", ");
}

// One line per distinct key of the rows `key` picks (an empty key skips the row), in first-seen
// order, each followed by the configurations that share it: a dtype a device lacks, or a step a
// graph cannot hold, is usually one reason shared by many rows.
std::string grouped(const std::vector<Result>& rows, const std::vector<const TableColumn*>& shown,
                    const std::function<std::string(const Result&)>& key) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const Result& r : rows) {
    const std::string k = key(r);
    if (k.empty()) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == k; });
    if (it == groups.end()) it = groups.insert(groups.end(), {k, {}});
    it->second.push_back(configuration(r, shown));
  }
  std::string out;
  for (const auto& [k, configs] : groups)
    out += "- " + k + "\n  (" + (configs.size() == 1 ? "" : std::to_string(configs.size()) + " rows: ") +
           join(configs, "; ") + ")\n";
  return out;
}

// Rows that were not measured, one line per outcome and reason.
std::string notes(const std::vector<Result>& rows, const std::vector<const TableColumn*>& shown) {
  const std::string out = grouped(rows, shown, [](const Result& r) -> std::string {
    const std::string status = text_of(value(r, "status"));
    if (status == "ok") return "";
    const std::string message = one_line(text_of(value(r, "message")));
    return status + (message == kNoValue ? "" : " — " + message);
  });
  return out.empty() ? "" : "\nNot measured:\n" + out;
}

// Rows asked to replay a CUDA graph that ran eagerly, one line per reason.
std::string graph_notes(const std::vector<Result>& rows, const std::vector<const TableColumn*>& shown) {
  const std::string out = grouped(rows, shown, [](const Result& r) -> std::string {
    if (text_of(value(r, "graphs")) != "eager") return "";
    return one_line(text_of(value(r, "graph_note")));
  });
  return out.empty() ? "" : "\nTimed as eager steps, not CUDA graphs:\n" + out;
}

// Why a device's energy was not read, one line per device and reason ("--energy off" rows say
// nothing).
std::string energy_notes(const std::vector<Result>& rows) {
  std::vector<std::string> lines;
  for (const Result& r : rows) {
    if (r.energy_note.empty()) continue;
    const std::string line = "- " + r.device + ": " + one_line(r.energy_note) + "\n";
    if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(line);
  }
  return lines.empty() ? "" : "\nEnergy:\n" + join(lines, "");
}

// The data-parallel rows' scaling, one line each (the narrow table keeps its eight columns).
std::string data_parallel_notes(const std::vector<Result>& rows) {
  std::string out;
  for (const Result& r : rows) {
    if (!is_data_parallel(r) || !r.scaling_efficiency) continue;
    out += "- " + r.workload + (r.size == "full" ? "" : " (" + r.size + ")") + " " + std::string(name(r.precision)) +
           " " + shape_label(r) + " on " + std::to_string(r.world_size) + (r.world_size == 1 ? " device" : " devices") +
           " from " + r.device + ": scaling " + percent(Value(*r.scaling_efficiency));
    // One rank's all-reduce moves nothing between devices (busbw's 2(N-1)/N is 0): say so, not "0.00".
    if (r.world_size == 1)
      out += ", no all-reduce bus bandwidth (one rank: nothing crosses a link)";
    else if (r.allreduce_busbw_gb_s)
      out += ", all-reduce bus bandwidth " + significant(Value(*r.allreduce_busbw_gb_s)) + " GB/s";
    out += "\n";
  }
  if (out.empty()) return "";
  return "\nData-parallel (throughput on N devices over N times one device's, the same run):\n" + out;
}

// The real weights and data sets the rows used, each named once (random weights and synthetic
// data, the defaults, go unsaid).
std::string inputs(const std::vector<Result>& rows) {
  std::string out;
  for (const auto& [field, title, fallback] : {std::tuple<const char*, const char*, const char*>{"weights", "Weights", "random"},
                                               {"data", "Data", "synthetic"}}) {
    std::vector<std::string> seen;
    for (const Result& r : rows) {
      const std::string v = one_line(text_of(value(r, field)));
      if (v != fallback && v != kNoValue && std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    }
    for (const auto& v : seen) out += std::string(title) + ": " + v + "\n";
  }
  return out.empty() ? "" : "\n" + out;
}

// The wide table's columns that carry information for these rows.
std::vector<const TableColumn*> wide_shown(const std::vector<Result>& rows) {
  std::vector<const TableColumn*> shown;
  for (const TableColumn& column : wide_columns())
    if (!column.shown || column.shown(rows)) shown.push_back(&column);
  return shown;
}

// Under the narrow table: the figures these rows have that only --wide shows.
std::string wide_hint(const std::vector<Result>& rows, const std::vector<const TableColumn*>& wide) {
  std::vector<std::string> more;
  for (const TableColumn* column : wide) {
    if (!column->wide_only) continue;
    const bool known =
        std::any_of(rows.begin(), rows.end(), [&](const Result& r) { return column->cell(r) != kNoValue; });
    if (known) more.push_back(column->title);
  }
  return more.empty() ? "" : "\n--wide adds: " + join(more, ", ") + ".\n";
}

std::string table(const std::vector<Result>& rows, const std::vector<const TableColumn*>& shown) {
  std::vector<std::string> titles;
  std::vector<bool> right_aligned;
  for (const TableColumn* column : shown) {
    titles.push_back(column->title);
    right_aligned.push_back(column->numeric);
  }
  std::vector<std::vector<std::string>> cells;
  for (const Result& r : rows) {
    cells.emplace_back();
    for (const TableColumn* column : shown) cells.back().push_back(column->cell(r));
  }
  return markdown_table(titles, right_aligned, cells);
}

std::string render(const std::vector<Result>& rows, TableWidth width) {
  if (rows.empty()) return "no results\n";
  // Notes below either table name a configuration by the wide table's columns: "batch 4, seq 128".
  const std::vector<const TableColumn*> wide = wide_shown(rows);
  const std::string below =
      inputs(rows) + graph_notes(rows, wide) + energy_notes(rows) + data_parallel_notes(rows) + notes(rows, wide);
  if (width == TableWidth::wide) return table(rows, wide) + below;

  const std::vector<TableColumn> narrow = narrow_columns(any_repetition(rows));
  std::vector<const TableColumn*> shown;
  for (const TableColumn& column : narrow)
    if (!column.shown || column.shown(rows)) shown.push_back(&column);
  return table(rows, shown) + wide_hint(rows, wide) + below;
}

class MarkdownPrinter : public Printer {
 public:
  MarkdownPrinter(std::ostream& out, TableWidth width) : out_(out), width_(width) {}
  void header(const RunContext& context) override { out_ << describe_context(context) << "\n" << std::flush; }
  // The table is printed once at the end, when every column's width is known.
  void row(const Result& result) override { rows_.push_back(result); }
  void footer(bool) override { out_ << render(rows_, width_) << std::flush; }

 private:
  std::ostream& out_;
  TableWidth width_;
  std::vector<Result> rows_;
};

}  // namespace

std::unique_ptr<Printer> make_markdown_printer(std::ostream& out, TableWidth width) {
  return std::make_unique<MarkdownPrinter>(out, width);
}

}  // namespace mlspeed
