#include "cli/show_options.h"

#include "cli/option_values.h"
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
      {"-o,--format", "FORMAT", "output: md, json, jsonl, csv", "md", "",
       [](O& o, T t) { o.format = parse_format_option(t); }},
      {"--wide", "", kWideHelp, std::nullopt, "", [](O& o, T) { o.wide = true; }},
      {"--db", "FILE", "results database file", std::nullopt, kDbDefaultHelp, [](O& o, T t) { o.db = db_path(t); }},
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
