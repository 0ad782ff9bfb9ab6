// `mlspeed export` and `mlspeed import`: a run carried to another machine in a run file
// (mlspeed/compare/run_file.h), and stored there with the context it was measured in.
#include <iostream>
#include <stdexcept>

#include "cli/commands.h"
#include "mlspeed/compare/imported_run.h"
#include "mlspeed/compare/run_file.h"
#include "mlspeed/compare/run_source.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"

namespace mlspeed::cli {
namespace {

std::string rows_in_words(const LoadedRun& run) {
  const size_t n = run.row_count();
  return std::to_string(n) + " " + RowKinds::noun(run.run.kind) + (n == 1 ? "" : "s");
}

bool is_speed_run(const LoadedRun& run) { return run.run.kind == RowType<Result>::kind; }

}  // namespace

int export_command(const ExportOptions& options) {
  const LoadedRun run = load_run(options.run, options.db);
  const std::string text = write_run_file(run);
  if (options.output.empty()) {
    // Not written (a full disk, a closed pipe): main() says why; no line here claims it was.
    if (!(std::cout << text << std::flush)) return 1;
  } else {
    const std::string why = write_whole_file(options.output, text);
    if (!why.empty()) throw UsageError("--output: " + why + "; choose a path you can write");
  }
  std::cerr << "mlspeed export: " << run.name << " (" << rows_in_words(run) << ", started " << run.run.started_at
            << ")" << (options.output.empty() ? "" : " written to " + options.output) << "; on another machine: "
            << (is_speed_run(run) ? "mlspeed import FILE, or mlspeed compare last FILE\n" : "mlspeed import FILE\n");
  return 0;
}

int import_command(const ImportOptions& options, const std::string& command_line) {
  const std::optional<std::string> text = read_whole_file(options.file);
  if (!text) throw UsageError(options.file + " cannot be read; check its permissions");
  RunFile file;
  try {
    file = read_run_file(*text, options.file);
  } catch (const std::invalid_argument& e) {
    throw UsageError(options.file + " cannot be imported: " + e.what());
  }
  Database db(options.db.empty() ? Database::default_path() : options.db);
  const int64_t id = store_imported_run(db, file.run, command_line, options.label);
  const std::string label = options.label.empty() ? file.run.run.label : options.label;
  std::cout << "imported " << options.file << " as run " << id
            << (label.empty() ? "" : " labelled \"" + printable(label) + "\"")
            << " (" << rows_in_words(file.run) << ", measured on " << printable(file.run.run.context.host.hostname)
            << " from " << file.run.run.started_at << ", status " << file.run.run.status << ")\n";
  if (file.context_rebuilt)
    std::cout << "its context was rebuilt from the rows' machine fields (host and devices): the file holds rows "
                 "only, with no command line or process-wide precision flags\n";
  if (!is_speed_run(file.run)) std::cout << "show it: mlspeed show " << id << "\n";
  else std::cout << "compare it with a run of yours: mlspeed compare RUN " << id << "   (mlspeed history lists them)\n";
  return 0;
}

}  // namespace mlspeed::cli
