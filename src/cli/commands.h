// The subcommands. Each returns the process exit status: 0 success, 1 a failure the user should
// know about (see each command), 2 bad input (thrown as UsageError and reported by the app).
#pragma once

#include <string>

#include "cli/generate_options.h"
#include "cli/run_options.h"
#include "cli/show_options.h"
#include "cli/verify_options.h"

namespace mlspeed::cli {

int devices_command(bool json);
int workloads_command(bool json);
// 1 if any row ended in `error`, 130 if interrupted; oom/unsupported rows are results, not failures.
int run_command(const RunOptions& options, const std::string& command_line);
int show_command(const ShowOptions& options);
// 2 for bad input or a bad vocabulary/weights file, 1 if the device failed to run the model.
int generate_command(const GenerateOptions& options);
// 0 when every check passed (skips and not-tested checks are listed, not failures), 1 when any
// check failed or errored, 2 for bad input, 130 when interrupted (completed checks are kept).
int verify_command(const VerifyOptions& options, const std::string& command_line);

}  // namespace mlspeed::cli
