// The options of `mlspeed report`, declared once in its table (option_table.h).
#pragma once

#include <string>
#include <vector>

#include "cli/option_table.h"

namespace mlspeed::cli {

enum class ReportFormat { html, md };

struct ReportOptions {
  // As typed (run_source.h: an id, last, label:NAME, ref:NAME, an exported file); empty: the
  // newest speed run and the newest verify run of its host.
  std::vector<std::string> runs;
  std::string output;                        // the file to write
  ReportFormat format = ReportFormat::html;  // from the output's extension
  std::string baseline;                      // the run speedups are against; empty: the first run
  std::string db;                            // empty: the default path
};

const OptionTable<ReportOptions>& report_option_table();
// Throws UsageError without --output, or for an extension other than .html, .htm or .md.
ReportOptions parse_report_options(const Given& given);

}  // namespace mlspeed::cli
