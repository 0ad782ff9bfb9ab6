// `mlspeed show`: a stored run, printed in any output format from the results database: a speed
// run as its results, a verification run as its checks and verdict (the run's kind says which).
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"
#include "mlspeed/verify/check_printers.h"

namespace mlspeed::cli {
namespace {

// Any kind of run is printed the same way: its context, its rows, and whether it completed.
template <class Row>
void print_run(const Database& db, const StoredRun& run, std::unique_ptr<RowPrinter<Row>> printer) {
  printer->header(run.context);
  for (const Row& row : load_rows<Row>(db, run.id)) printer->row(row);
  printer->footer(/*complete=*/run.status == "complete");
}

StoredRun find_run(const Database& db, const std::string& run) {
  if (run == "last") {
    const auto runs = db.runs();
    if (runs.empty()) throw UsageError(db.path() + " holds no runs yet; `mlspeed run` adds one");
    return runs.front();
  }
  const std::optional<StoredRun> stored = db.run(parse_positive_int(run, "run"));
  if (!stored) throw UsageError("run: no run " + run + " in " + db.path());
  return *stored;
}

}  // namespace

int show_command(const ShowOptions& options) {
  const std::string path = options.db.empty() ? Database::default_path() : options.db;
  if (!path_exists(path))
    throw UsageError("no results database at " + path + " yet; `mlspeed run` creates it (or pass --db PATH)");
  const Database db(path, Database::Access::read_only);  // showing never changes the file
  const StoredRun stored = find_run(db, options.run);

  if (stored.kind == RowType<verify::CheckResult>::kind)
    print_run<verify::CheckResult>(db, stored, verify::make_check_printer(options.format, std::cout));
  else
    print_run<Result>(db, stored,
                      make_printer(options.format, std::cout, options.wide ? TableWidth::wide : TableWidth::narrow));
  std::cerr << "run " << stored.id << " (" << stored.status << ", started " << stored.started_at
            << "): " << stored.command << "\n";
  return 0;
}

}  // namespace mlspeed::cli
