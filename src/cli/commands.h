// The subcommands. Each returns the process exit status: 0 success, 1 a failure the user should
// know about (see each command), 2 bad input (thrown as UsageError and reported by the app).
#pragma once

#include <string>

#include "cli/options.h"

namespace mlspeed::cli {

int devices_command(bool json);
int workloads_command(bool json);
// 1 if any row ended in `error`, 130 if interrupted; oom/unsupported rows are results, not failures.
int run_command(const RunOptions& options, const std::string& command_line);
// `run` is a run id or "last".
int show_command(const std::string& run, const std::string& format, const std::string& db_path);

int run_app(int argc, char** argv);

}  // namespace mlspeed::cli
