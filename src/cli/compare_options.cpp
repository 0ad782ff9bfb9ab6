#include "cli/compare_options.h"

#include <cmath>
#include <cstdlib>

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"

namespace mlspeed::cli {
namespace {

// A number in [low, high] (high excluded when `open_high`), the whole text of it.
double parse_number(const std::string& text, const std::string& option, double low, double high, bool open_high,
                    const std::string& what) {
  char* end = nullptr;
  const double value = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  const bool whole = !text.empty() && end == text.c_str() + text.size();
  if (!whole || !std::isfinite(value) || value < low || value > high || (open_high && value == high))
    throw UsageError(option + ": '" + text + "' is not " + what);
  return value;
}

OptionTable<CompareOptions> compare_table() {
  using O = CompareOptions;
  using T = const std::string&;
  return {
      {"runs", "RUN...",
       "the runs to compare, the first the baseline: a run id, last, last-1, label:NAME, ref:NAME (a bundled "
       "reference set), or a file written by `mlspeed export`",
       std::nullopt, "none (`mlspeed history` lists the runs)", [](O& o, T t) { o.runs = split_many(t); }},
      {"--devices", "LIST", "compare the devices of one run instead, the first the baseline (e.g. cpu,cuda:0)",
       std::nullopt, "compare runs", [](O& o, T t) { o.devices = split_list(t, "--devices"); }},
      {"--threshold", "PCT",
       "the minimum effect: a change of the median below PCT percent is called the same, however significant",
       "5", "",
       [](O& o, T t) {
         o.settings.threshold = parse_number(t, "--threshold", 0, 1000, false, "a percentage from 0 to 1000") / 100;
       }},
      {"--alpha", "P", "significance level of the Mann-Whitney U test on the samples", "0.05", "",
       [](O& o, T t) {
         o.settings.alpha = parse_number(t, "--alpha", 0, 0.5, false, "a significance level above 0, at most 0.5");
         if (o.settings.alpha == 0) throw UsageError("--alpha: 0 would call nothing significant; use e.g. 0.01");
       }},
      {"--fail-if-slower", "PCT",
       "exit 1 when any configuration is slower beyond noise (significant, beyond --threshold) by more than PCT "
       "percent, naming it on stderr",
       std::nullopt, "off",
       [](O& o, T t) { o.fail_if_slower = parse_number(t, "--fail-if-slower", 0, 1e6, false, "a percentage >= 0"); }},
      {"--list-references", "", "list the bundled reference sets (ref:NAME) and exit", std::nullopt, "",
       [](O& o, T) { o.list_references = true; }},
      format_option<O, Format::md, Format::json, Format::jsonl, Format::csv>(),
      db_option<O>(),
  };
}

void check_combination(const CompareOptions& o) {
  if (o.list_references) {
    if (!o.runs.empty()) throw UsageError("--list-references takes no runs; run it alone");
    return;
  }
  if (!o.devices.empty()) {
    if (o.runs.size() != 1)
      throw UsageError("--devices compares the devices of one run; give one run (got " + std::to_string(o.runs.size()) +
                       "), e.g. `mlspeed compare last --devices cpu,cuda:0`");
    if (o.devices.size() < 2)
      throw UsageError("--devices needs two devices or more, the first the baseline, e.g. --devices cpu,cuda:0");
    return;
  }
  if (o.runs.size() < 2)
    throw UsageError(std::string(o.runs.empty() ? "no runs given" : "one run given") +
                     ": compare needs two runs or more, the first the baseline (e.g. `mlspeed compare last-1 last`), or "
                     "one run with --devices cpu,cuda:0; `mlspeed history` lists the runs");
}

}  // namespace

const OptionTable<CompareOptions>& compare_option_table() {
  static const OptionTable<CompareOptions> table = compare_table();
  return table;
}

CompareOptions parse_compare_options(const Given& given) {
  CompareOptions options = parse_options(compare_option_table(), given);
  check_combination(options);
  return options;
}

}  // namespace mlspeed::cli
