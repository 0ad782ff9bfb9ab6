// A command of the program as data: its name, what --help says of it, its options and the function
// that runs it. The registry (commands.cpp) lists every command once; the app (app.cpp) declares,
// parses and dispatches them from it, so a new command is one entry there and nothing in the app.
#pragma once

#include <any>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/option_table.h"

namespace mlspeed::cli {

// A command line parsed into one command's options, ready to run.
struct ParsedCommand {
  std::any options;  // the command's options struct: RunOptions, ShowOptions, ...
  std::function<int(const std::string& command_line)> run;  // returns the exit status
};

struct Command {
  std::string name;
  std::string description;  // one line, under `mlspeed --help`
  std::string footer;       // the exit statuses, under `mlspeed NAME --help`
  std::vector<OptionInfo> options;
  // What was typed -> the command's options (UsageError for bad input), bound to its function.
  std::function<ParsedCommand(const Given& given)> parse;
};

// An entry from the command's option table, its parser (the table and the checks across options)
// and its function. `run` takes the command line as typed where it records it (run, verify, import).
template <class Options>
Command make_command(std::string name, std::string description, std::string footer,
                     const OptionTable<Options>& table, Options (*parse)(const Given&),
                     int (*run)(const Options&, const std::string& command_line)) {
  return {std::move(name), std::move(description), std::move(footer), describe(table),
          [parse, run](const Given& given) {
            Options options = parse(given);
            return ParsedCommand{options, [options, run](const std::string& line) { return run(options, line); }};
          }};
}

template <class Options>
Command make_command(std::string name, std::string description, std::string footer,
                     const OptionTable<Options>& table, Options (*parse)(const Given&),
                     int (*run)(const Options&)) {
  return {std::move(name), std::move(description), std::move(footer), describe(table),
          [parse, run](const Given& given) {
            Options options = parse(given);
            return ParsedCommand{options, [options, run](const std::string&) { return run(options); }};
          }};
}

// Every command, in the order `mlspeed --help` lists them (commands.cpp).
const std::vector<Command>& commands();

}  // namespace mlspeed::cli
