#include "cli/show_options.h"

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"

namespace mlspeed::cli {
namespace {

OptionTable<ShowOptions> show_table() {
  using O = ShowOptions;
  using T = const std::string&;
  return {
      {"run", "RUN", "the run: an id, last, last-N, label:NAME, ref:NAME or an exported file", "last", "",
       [](O& o, T t) { o.run = t; }},
      format_option<O, Format::md, Format::json, Format::jsonl, Format::csv>(),
      wide_option<O>(),
      db_option<O>(),
  };
}

}  // namespace

const OptionTable<ShowOptions>& show_option_table() {
  static const OptionTable<ShowOptions> table = show_table();
  return table;
}

ShowOptions parse_show_options(const Given& given) {
  ShowOptions options = parse_options(show_option_table(), given);
  check_wide(options.wide, options.format);
  return options;
}

}  // namespace mlspeed::cli
