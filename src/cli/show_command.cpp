// `mlspeed show`: a stored run, printed in any output format from the results database: a speed
// run as its results, a verification run as its checks and verdict.
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/verify/check_printers.h"

namespace mlspeed::cli {
namespace {

// A run with checks, or a `verify` command that stored none (every check filtered away or
// interrupted before the first): its verdict is the thing to show.
bool is_verify_run(const StoredRun& run) {
  if (run.check_count > 0) return true;
  if (run.result_count > 0) return false;
  std::istringstream words(run.command);
  std::string program, command;
  return words >> program >> command && command == "verify";
}

}  // namespace

int show_command(const std::string& run, const std::string& format_name, const std::string& db_path) {
  const auto format = parse_format(format_name);
  if (!format)
    throw UsageError("--format: unknown format '" + format_name + "'; choose from: " + join(format_names(), ", "));
  const std::string path = db_path.empty() ? Database::default_path() : db_path;
  if (!path_exists(path))
    throw UsageError("no results database at " + path + " yet; `mlspeed run` creates it (or pass --db PATH)");
  const Database db(path, Database::Access::read_only);  // showing never changes the file

  std::optional<StoredRun> stored;
  if (run == "last") {
    const auto runs = db.runs();
    if (runs.empty()) throw UsageError(path + " holds no runs yet; `mlspeed run` adds one");
    stored = runs.front();
  } else {
    stored = db.run(parse_positive_int(run, "run"));
    if (!stored) throw UsageError("run: no run " + run + " in " + path);
  }

  if (is_verify_run(*stored)) {
    // Context first for people, as `mlspeed verify` prints it; the machine formats are rows only.
    if (*format == Format::md) std::cout << describe_context(stored->context) << "\n";
    auto printer = verify::make_check_printer(*format, std::cout);
    printer->header();
    for (const auto& check : db.checks(stored->id)) printer->row(check);
    printer->footer(/*complete=*/stored->status == "complete");
  } else {
    auto printer = make_printer(*format, std::cout);
    printer->header(stored->context);
    for (const auto& r : db.results(stored->id)) printer->row(r);
    printer->footer();
  }
  std::cerr << "run " << stored->id << " (" << stored->status << ", started " << stored->started_at
            << "): " << stored->command << "\n";
  return 0;
}

}  // namespace mlspeed::cli
