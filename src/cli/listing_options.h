// The options of `mlspeed devices` and `mlspeed workloads`, which list what this machine and this
// build offer, declared once in their table (option_table.h).
#pragma once

#include "cli/option_table.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

struct ListingOptions {
  Format format = Format::md;  // md or json
};

const OptionTable<ListingOptions>& listing_option_table();
ListingOptions parse_listing_options(const Given& given);

}  // namespace mlspeed::cli
