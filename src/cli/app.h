// The command line: every command of the registry (command.h, commands.cpp) with its option table
// declared on CLI11, parsed into the command's options struct without running anything
// (parse_arguments, which the option fuzzer drives), then run (run_app).
#pragma once

#include <any>
#include <string>

#include "cli/command.h"

namespace mlspeed::cli {

struct Invocation {
  std::string command;       // a name in the registry: "run", "show", ...
  std::string command_line;  // as typed, for the run's context
  ParsedCommand parsed;      // the command's options, bound to its function

  // The options struct of the command (std::bad_any_cast if it is another command's).
  template <class Options> const Options& options() const { return std::any_cast<const Options&>(parsed.options); }
};

// Parses argv; throws UsageError for bad input (an unknown command, a bad value) and CLI11's
// CLI::ParseError for what CLI11 itself refuses or answers (CallForHelp, CallForVersion).
Invocation parse_arguments(int argc, char** argv);

// Parses and runs; returns the exit status (help and version: 0; bad input: 2).
int run_app(int argc, char** argv);

}  // namespace mlspeed::cli
