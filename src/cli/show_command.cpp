// `mlspeed show`: a run, printed in any output format by the printer of its kind of row: a speed
// run as its results, a verification run as its checks and verdict, a generate run as its
// generations (compare/row_kinds.h lists the kinds). The run is named as `compare` takes
// one (compare/run_source.h): a stored run, an exported file or a bundled reference set.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "mlspeed/compare/run_source.h"
#include "mlspeed/core/text.h"
#include "mlspeed/generate/generation_printer.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/verify/check_printers.h"

namespace mlspeed::cli {
namespace {

// Any kind of run is printed the same way: its context, its rows, and whether it completed.
template <class Row> void print_run(const LoadedRun& run, RowPrinter<Row>& printer) {
  printer.header(run.run.context);
  for (const Row& row : run.rows<Row>()) printer.row(row);
  printer.footer(/*complete=*/run.run.status == "complete");
}

// Each kind's printer; a new kind of row (compare/row_kinds.h) adds its own here.
std::unique_ptr<RowPrinter<Result>> printer_for(RowTag<Result>, const ShowOptions& options, const LoadedRun&) {
  return make_printer(options.format, std::cout, options.wide ? TableWidth::wide : TableWidth::narrow);
}
std::unique_ptr<RowPrinter<verify::CheckResult>> printer_for(RowTag<verify::CheckResult>, const ShowOptions& options,
                                                             const LoadedRun& run) {
  // A verification run's checks table has one width; say so rather than ignore the option.
  if (options.wide) std::cerr << "note: --wide widens a speed run's table; " << run.name << " is a verification run\n";
  return verify::make_check_printer(options.format, std::cout);
}
std::unique_ptr<RowPrinter<GenerationRow>> printer_for(RowTag<GenerationRow>, const ShowOptions& options,
                                                       const LoadedRun& run) {
  if (options.wide) std::cerr << "note: --wide widens a speed run's table; " << run.name << " is a generate run\n";
  return make_generation_printer(options.format, std::cout);
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
  // load_run reads only the kinds there are.
  RowKinds::visit(run.run.kind, [&](auto kind) { print_run(run, *printer_for(kind, options, run)); });
  // A file from another machine may hold anything: the line stays one line, with no control character.
  std::cerr << one_line(origin(run) + " (" + run.run.status + ", started " + run.run.started_at + "): " + run.run.command)
            << "\n";
  return 0;
}

}  // namespace mlspeed::cli
