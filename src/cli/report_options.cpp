#include "cli/report_options.h"

#include <algorithm>
#include <cctype>

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"

namespace mlspeed::cli {
namespace {

std::string lower_extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string extension = path.substr(dot);
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return extension;
}

ReportFormat format_of(const std::string& path) {
  const std::string extension = lower_extension(path);
  if (extension == ".html" || extension == ".htm") return ReportFormat::html;
  if (extension == ".md") return ReportFormat::md;
  throw UsageError("--output: '" + printable(path) + "' has " + (extension.empty() ? "no extension" : "the extension " + extension) +
                   "; the extension picks the format: .html (a page with charts) or .md (a markdown summary)");
}

OptionTable<ReportOptions> report_table() {
  using O = ReportOptions;
  using T = const std::string&;
  return {
      {"runs", "RUN...", "runs to report: a run id, last, label:NAME, ref:NAME (published figures) or an exported file",
       std::nullopt, "the newest speed run and the newest verify run of its host",
       [](O& o, T t) {
         for (const std::string& run : split_many(t)) {
           if (run.empty())
             throw UsageError("runs: an empty run name; give a run id, last, label:NAME, ref:NAME or a file");
           o.runs.push_back(run);
         }
       }},
      {"--output", "FILE", "the report to write: FILE.html (charts, opens offline) or FILE.md (GitHub summary)",
       std::nullopt, "none: required",
       [](O& o, T t) {
         o.format = format_of(t);
         o.output = t;
       }},
      output_not_o_option<O>(),
      {"--baseline", "RUN", "the run speedups are against (added to the report when not among RUNS)", std::nullopt,
       "the first run",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("--baseline: the run name is empty");
         o.baseline = t;
       }},
      db_option<O>(),
  };
}

}  // namespace

const OptionTable<ReportOptions>& report_option_table() {
  static const OptionTable<ReportOptions> table = report_table();
  return table;
}

ReportOptions parse_report_options(const Given& given) {
  ReportOptions options = parse_options(report_option_table(), given);
  if (options.output.empty())
    throw UsageError(
        "give the file to write: --output report.html (charts) or --output summary.md (a markdown summary)");
  return options;
}

}  // namespace mlspeed::cli
