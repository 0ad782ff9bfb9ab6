// The command line: every command with its option table declared on CLI11, parsed into the
// command's options struct without running anything (parse_arguments, which the option fuzzer
// drives), then dispatched (run_app).
#pragma once

#include <string>

#include "cli/commands.h"

namespace mlspeed::cli {

struct Invocation {
  std::string command;       // "run", "verify", "show", "generate", "devices", "workloads"
  std::string command_line;  // as typed, for the run's context
  bool json = false;         // devices, workloads
  RunOptions run;
  VerifyOptions verify;
  GenerateOptions generate;
  ShowOptions show;
  HistoryOptions history;
  ExportOptions export_run;
  ImportOptions import_run;
  CompareOptions compare;
  ReportOptions report;
};

// Parses argv; throws UsageError for bad input (an unknown command, a bad value) and CLI11's
// CLI::ParseError for what CLI11 itself refuses or answers (CallForHelp, CallForVersion).
Invocation parse_arguments(int argc, char** argv);

// Parses and runs; returns the exit status (help and version: 0; bad input: 2).
int run_app(int argc, char** argv);

}  // namespace mlspeed::cli
