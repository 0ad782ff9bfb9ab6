// The machine formats (json, jsonl, csv) for results and reading them back: RowWriter and
// parse_rows over result_fields(), so a field added there is printed and parsed everywhere with
// no change here.
#include "mlspeed/results/printers.h"

#include <stdexcept>

#include "mlspeed/results/fields.h"
#include "mlspeed/results/markdown_printer.h"

namespace mlspeed {
namespace {

class MachinePrinter : public Printer {
 public:
  MachinePrinter(Format format, std::ostream& out) : writer_(make_row_writer(format, out, result_fields())) {}
  void header(const RunContext&) override { writer_.begin(); }
  void row(const Result& result) override { writer_.write(values_of(result_fields(), result)); }
  void footer() override { writer_.end(); }

 private:
  RowWriter writer_;
};

}  // namespace

std::unique_ptr<Printer> make_printer(Format format, std::ostream& out) {
  if (format == Format::md) return make_markdown_printer(out);
  return std::make_unique<MachinePrinter>(format, out);
}

std::vector<Result> parse_results(Format format, std::string_view text) {
  return parse_rows(format, text, result_fields());
}

}  // namespace mlspeed
