// The options several commands share, declared once here: each command's table takes them from
// these functions, so that --db, -o/--format, --output, --label, --no-db and --wide mean one thing
// and say the same in every command's --help (option_tables_unit_test.cpp checks the rest).
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "cli/option_table.h"
#include "cli/option_values.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

// --db FILE: the results database (Options::db).
template <class Options> OptionSpec<Options> db_option() {
  return {"--db", "FILE", "results database file", std::nullopt, kDbDefaultHelp,
          [](Options& o, const std::string& t) { o.db = db_path(t); }};
}

// --no-db: do not store (Options::no_db).
template <class Options> OptionSpec<Options> no_db_option(std::string help) {
  return {"--no-db", "", std::move(help), std::nullopt, "", [](Options& o, const std::string&) { o.no_db = true; }};
}

// -o, --format FORMAT: how the output is printed (Options::format), one of `Allowed`; md by default.
template <class Options, Format... Allowed> OptionSpec<Options> format_option() {
  std::vector<std::string> names;
  for (Format f : {Allowed...}) names.push_back(name(f));
  return {"-o,--format", "FORMAT", "output: " + join(names, ", "), "md", "",
          [](Options& o, const std::string& t) { o.format = parse_format_option(t, {Allowed...}); }};
}

// --output FILE: the file a command writes (Options::output), and `-o`, which is the output format
// everywhere in mlspeed, refused with the right spelling.
template <class Options> OptionSpec<Options> output_option(std::string help, std::string default_help) {
  return {"--output", "FILE", std::move(help), std::nullopt, std::move(default_help),
          [](Options& o, const std::string& t) {
            if (t.empty()) throw UsageError("--output: the path is empty");
            o.output = t;
          }};
}
template <class Options> OptionSpec<Options> output_not_o_option() {
  return {"-o", "FILE", "", std::nullopt, "",
          [](Options&, const std::string& t) {
            throw UsageError("-o names an output format in mlspeed's commands; give the file as --output " +
                             printable(t));
          },
          /*hidden=*/true};
}

// --label TEXT: the user's name for a run (Options::label).
template <class Options> OptionSpec<Options> label_option(std::string help, std::string default_help) {
  return {"--label", "TEXT", std::move(help), std::nullopt, std::move(default_help),
          [](Options& o, const std::string& t) { o.label = run_label(t); }};
}

// --wide: the md table with every column (Options::wide).
template <class Options> OptionSpec<Options> wide_option() {
  return {"--wide", "", kWideHelp, std::nullopt, "", [](Options& o, const std::string&) { o.wide = true; }};
}

}  // namespace mlspeed::cli
