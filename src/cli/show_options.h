// The options of `mlspeed show`, declared once in its table (option_table.h).
#pragma once

#include <string>

#include "cli/option_table.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

struct ShowOptions {
  std::string run;  // a run id, or "last"
  Format format = Format::md;
  std::string db;   // empty: the default path
  bool wide = false;  // --wide: the md table with every column
};

const OptionTable<ShowOptions>& show_option_table();
ShowOptions parse_show_options(const Given& given);

}  // namespace mlspeed::cli
