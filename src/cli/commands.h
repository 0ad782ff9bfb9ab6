// The commands' functions, which the registry (commands.cpp) binds to their names and option
// tables. Each returns the process exit status: 0 success, 1 a failure the user should know about
// (see each command), 2 bad input (thrown as UsageError and reported by the app).
#pragma once

#include <string>

#include "cli/compare_options.h"
#include "cli/generate_options.h"
#include "cli/history_options.h"
#include "cli/listing_options.h"
#include "cli/quantize_options.h"
#include "cli/run_file_options.h"
#include "cli/run_options.h"
#include "cli/report_options.h"
#include "cli/show_options.h"
#include "cli/verify_options.h"

namespace mlspeed::cli {

int devices_command(const ListingOptions& options);
int workloads_command(const ListingOptions& options);
// 1 if any row ended in `error`, 130 if interrupted; oom/unsupported rows are results, not failures.
int run_command(const RunOptions& options, const std::string& command_line);
int show_command(const ShowOptions& options);
// 0 also when no run matches (it says so); 2 when the database does not exist.
int history_command(const HistoryOptions& options);
// export: the run file of one run, to stdout or --output. import: stores a run file's run, keeping
// its context and status; `command_line` is recorded as the run's command. Both 2 for bad input.
int export_command(const ExportOptions& options);
int import_command(const ImportOptions& options, const std::string& command_line);
// 1 with --fail-if-slower when any configuration is slower beyond noise by more than its percentage.
int compare_command(const CompareOptions& options);
// Writes the report file whole (or not at all); 2 for bad input, an unknown run or an unwritable path.
int report_command(const ReportOptions& options);
// 2 for bad input or a bad vocabulary/weights file, 1 if the device failed to run the model.
int generate_command(const GenerateOptions& options, const std::string& command_line);
// Writes a GGUF file (llama-quantize's job); 2 for bad input or an unreadable or unwritable file.
int quantize_command(const QuantizeOptions& options);
// 0 when every check passed (skips and not-tested checks are listed, not failures), 1 when any
// check failed or errored, 2 for bad input, 130 when interrupted (completed checks are kept).
int verify_command(const VerifyOptions& options, const std::string& command_line);

}  // namespace mlspeed::cli
