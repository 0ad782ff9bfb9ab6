// `mlspeed show`: a run, printed in any output format: a speed run as its results, a verification
// run as its checks and verdict (the run's kind says which). The run is named as `compare` takes
// one (compare/run_source.h): a stored run, an exported file or a bundled reference set.
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/compare/run_source.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"
#include "mlspeed/verify/check_printers.h"

namespace mlspeed::cli {
namespace {

// Any kind of run is printed the same way: its context, its rows, and whether it completed.
template <class Row> void print_run(const LoadedRun& run, const std::vector<Row>& rows, RowPrinter<Row>& printer) {
  printer.header(run.run.context);
  for (const Row& row : rows) printer.row(row);
  printer.footer(/*complete=*/run.run.status == "complete");
}

// Where the run came from, for the closing line: "run 12", "label:baseline (run 12)", a file, or a
// reference set with its citation.
std::string origin(const LoadedRun& run) {
  std::string out = run.name;
  // A file keeps the id it had on its own machine, so only a label is followed by the id here.
  if (run.name.rfind("label:", 0) == 0) out += " (run " + std::to_string(run.run.id) + ")";
  if (run.published()) out += " (published figures: " + run.citation + ")";
  return out;
}

}  // namespace

int show_command(const ShowOptions& options) {
  // Opens the database read-only: showing never changes the file.
  const LoadedRun run = load_run(options.run, options.db);
  if (run.run.kind == RowType<verify::CheckResult>::kind) {
    // A verification run's checks table has one width; say so rather than ignore the option.
    if (options.wide) std::cerr << "note: --wide widens a speed run's table; " << run.name << " is a verification run\n";
    print_run(run, run.checks, *verify::make_check_printer(options.format, std::cout));
  } else {
    const TableWidth width = options.wide ? TableWidth::wide : TableWidth::narrow;
    print_run(run, run.rows, *make_printer(options.format, std::cout, width));
  }
  // A file from another machine may hold anything: the line stays one line, with no control character.
  std::cerr << one_line(origin(run) + " (" + run.run.status + ", started " + run.run.started_at + "): " + run.run.command)
            << "\n";
  return 0;
}

}  // namespace mlspeed::cli
