#include "cli/listing_options.h"

#include "cli/shared_options.h"

namespace mlspeed::cli {

const OptionTable<ListingOptions>& listing_option_table() {
  using O = ListingOptions;
  static const OptionTable<O> table = {
      format_option<O, Format::md, Format::json>(),
      // The spelling of earlier versions, kept for the scripts that use it.
      {"--json", "", "the same as -o json", std::nullopt, "", [](O& o, const std::string&) { o.format = Format::json; }},
  };
  return table;
}

ListingOptions parse_listing_options(const Given& given) { return parse_options(listing_option_table(), given); }

}  // namespace mlspeed::cli
