// The options of `mlspeed compare`, declared once in its table (option_table.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/option_table.h"
#include "mlspeed/compare/comparison.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

struct CompareOptions {
  std::vector<std::string> runs;     // as typed: ids, last, last-N, label:NAME, ref:NAME, files
  std::vector<std::string> devices;  // --devices: the devices of one run; empty: runs side by side
  CompareSettings settings;
  std::optional<double> fail_if_slower;  // percent; absent: no gate
  bool list_references = false;
  Format format = Format::md;
  std::string db;  // empty: the default path
};

const OptionTable<CompareOptions>& compare_option_table();
// Also refuses combinations: fewer than two runs without --devices, --devices with other than
// one run, --list-references with runs.
CompareOptions parse_compare_options(const Given& given);

}  // namespace mlspeed::cli
