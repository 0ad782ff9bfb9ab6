// The options of `mlspeed export` and `mlspeed import`, which carry a run between machines in a
// run file (mlspeed/compare/run_file.h), each declared once in its table (option_table.h).
#pragma once

#include <string>

#include "cli/option_table.h"

namespace mlspeed::cli {

struct ExportOptions {
  std::string run;     // a run name (compare/run_source.h): id, last, label:NAME, ...
  std::string output;  // empty: stdout
  std::string db;      // empty: the default path
};

struct ImportOptions {
  std::string file;
  std::string label;  // replaces the file's label; empty: keep it
  std::string db;     // empty: the default path
};

const OptionTable<ExportOptions>& export_option_table();
ExportOptions parse_export_options(const Given& given);
const OptionTable<ImportOptions>& import_option_table();
ImportOptions parse_import_options(const Given& given);

}  // namespace mlspeed::cli
