#include "cli/history_options.h"

#include <stdexcept>

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"

namespace mlspeed::cli {
namespace {

OptionTable<HistoryOptions> history_table() {
  using O = HistoryOptions;
  using T = const std::string&;
  return {
      {"-w,--workload", "NAME", "only runs with rows of this workload", std::nullopt, "every workload",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("--workload: the name is empty; `mlspeed workloads` lists them");
         o.filter.workload = t;
       }},
      {"-d,--device", "DEVICE", "only runs with rows on this device (cpu, cuda:0; cuda: any CUDA device)",
       std::nullopt, "every device",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("--device: the device is empty; give cpu, cuda, cuda:N or mps");
         o.filter.device = t;
       }},
      {"--since", "DATE", "only runs started at or after DATE (YYYY-MM-DD or an ISO 8601 time, UTC)", std::nullopt,
       "all",
       [](O& o, T t) {
         try {
           o.filter.since = parse_since(t);
         } catch (const std::invalid_argument& e) {
           throw UsageError(std::string("--since: ") + e.what());
         }
       }},
      {"--label", "TEXT", "only runs with this label (run --label TEXT)", std::nullopt, "any",
       [](O& o, T t) { o.filter.label = run_label(t); }},
      {"--limit", "N", "the newest N runs that match", std::nullopt, "all",
       [](O& o, T t) { o.filter.limit = parse_positive_int(t, "--limit"); }},
      format_option<O, Format::md, Format::json, Format::csv>(),
      db_option<O>(),
  };
}

}  // namespace

const OptionTable<HistoryOptions>& history_option_table() {
  static const OptionTable<HistoryOptions> table = history_table();
  return table;
}

HistoryOptions parse_history_options(const Given& given) { return parse_options(history_option_table(), given); }

}  // namespace mlspeed::cli
