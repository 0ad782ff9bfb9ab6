// The machine formats (json, jsonl, csv) for results and reading them back: RowWriter and
// parse_rows over result_fields(), so a field added there is printed and parsed everywhere with
// no change here.
#include "mlspeed/results/printers.h"

#include <stdexcept>

#include "mlspeed/results/fields.h"
#include "mlspeed/results/markdown_printer.h"

namespace mlspeed {
namespace {

}  // namespace

std::unique_ptr<Printer> make_printer(Format format, std::ostream& out, TableWidth width) {
  if (format == Format::md) return make_markdown_printer(out, width);
  return std::make_unique<MachinePrinter<Result>>(format, out);
}

std::vector<Result> parse_results(Format format, std::string_view text) {
  return parse_rows(format, text, result_fields());
}

}  // namespace mlspeed
