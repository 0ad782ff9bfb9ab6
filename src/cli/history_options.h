// The options of `mlspeed history`, declared once in its table (option_table.h).
#pragma once

#include <string>

#include "cli/option_table.h"
#include "mlspeed/compare/history.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

struct HistoryOptions {
  HistoryFilter filter;
  Format format = Format::md;
  std::string db;  // empty: the default path
};

const OptionTable<HistoryOptions>& history_option_table();
HistoryOptions parse_history_options(const Given& given);

}  // namespace mlspeed::cli
