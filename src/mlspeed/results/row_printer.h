// One printer interface for every kind of row (after llama-bench): a header that takes the run's
// context, one call per row as it completes, a footer. Speed results (printers.h) and verification
// checks (verify/check_printers.h) are both RowPrinters, so a command or `show` prints any run the
// same way.
#pragma once

#include <iosfwd>

#include "mlspeed/results/context.h"
#include "mlspeed/results/formats.h"

namespace mlspeed {

template <class Row> class RowPrinter {
 public:
  virtual ~RowPrinter() = default;
  virtual void header(const RunContext& context) = 0;
  virtual void row(const Row& row) = 0;
  // Always called, also after an interruption (`complete` false), so JSON output stays
  // well-formed and a summary can say it covers part of the plan.
  virtual void footer(bool complete) = 0;
};

// The machine formats (json, jsonl, csv) of any row type: every field of RowType<Row>, streamed
// as rows arrive. The context is not printed: a machine reader gets it from the rows' own fields.
template <class Row> class MachinePrinter : public RowPrinter<Row> {
 public:
  MachinePrinter(Format format, std::ostream& out) : writer_(make_row_writer(format, out, RowType<Row>::fields())) {}
  void header(const RunContext&) override { writer_.begin(); }
  void row(const Row& row) override { writer_.write(values_of(RowType<Row>::fields(), row)); }
  void footer(bool) override { writer_.end(); }

 private:
  RowWriter writer_;
};

}  // namespace mlspeed
