// `mlspeed run`: parse -> expand -> run -> print and store, as llama-bench does.
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "mlspeed/bench/plan.h"
#include "mlspeed/bench/progress.h"
#include "mlspeed/bench/runner.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/results/row_store.h"

namespace mlspeed::cli {
namespace {

SweepRequest make_request(const RunOptions& o, const std::vector<DeviceFacts>& devices) {
  SweepRequest request;
  for (const auto& name : o.workloads) request.workloads.push_back(find_workload(name));
  request.sizes = o.sizes;
  request.devices = devices;
  for (const auto& name : o.dtypes) request.precisions.push_back(*parse_precision(name));
  request.shapes = ShapeRequest{o.batches, o.seqs, o.new_tokens};
  request.repetitions = static_cast<int>(o.repetitions);
  request.open = OpenOptions{o.seed, o.weights, o.data};
  return request;
}

TimingPolicy make_policy(const RunOptions& o) {
  TimingPolicy policy;
  policy.warmup = static_cast<int>(o.warmup);
  if (o.iterations) policy.iterations = static_cast<int>(*o.iterations);
  policy.min_time_s = o.min_time;
  policy.graphs = o.graphs;
  policy.profile_dir = o.profile;
  return policy;
}

// Devices named by -d, with the CPU's peak measured only if the CPU is among them.
std::vector<DeviceFacts> chosen_devices(const RunOptions& o) {
  auto devices = select_devices(o.devices, discover_devices(/*measure_cpu_peak=*/false));
  for (auto& d : devices)
    if (d.kind == "cpu") measure_peak(d);
  return devices;
}

// The end of a run's storing: the rows still waiting get a last try, the run its final status.
// Says which rows the database refused, one line each; returns whether every row was stored.
bool finish_storing(Database& db, int64_t run_id, const char* status, RowStore<Result>& store) {
  store.flush();
  std::string finish_error;
  try {
    db.finish_run(run_id, status);
  } catch (const std::exception& e) {
    finish_error = e.what();
  }
  for (const Result& r : store.pending())
    std::cerr << "mlspeed run: not stored in " << db.path() << ": " << r.workload << " " << r.size << " " << r.device
              << " " << name(r.precision) << " b=" << r.batch << " (printed above; " << store.last_error() << ")\n";
  if (store.refusals() > 0 && store.pending().empty())
    std::cerr << "mlspeed run: the database refused " << store.refusals() << " writes (" << store.last_error()
              << "); every row was stored on a retry\n";
  if (!finish_error.empty())
    std::cerr << "mlspeed run: the run's status could not be recorded as " << status << ": " << finish_error << "\n";
  return store.pending().empty();
}

}  // namespace

int run_command(const RunOptions& options, const std::string& command_line) {
  // Everything a user can get wrong is checked before anything runs or is stored.
  const Format format = *parse_format(options.format);
  apply_threads(options.threads);  // before the CPU's peak is measured
  const std::vector<DeviceFacts> devices = chosen_devices(options);
  const std::vector<Configuration> plan = expand(make_request(options, devices));
  if (!options.profile.empty()) {
    const std::string why = make_directories(options.profile);
    if (!why.empty()) throw UsageError("--profile: cannot use '" + options.profile + "' as a folder: " + why);
  }
  std::unique_ptr<Database> db;
  if (!options.no_db) db = std::make_unique<Database>(options.db.empty() ? Database::default_path() : options.db);

  RunContext context;
  context.started_at = now_iso8601();
  context.command = command_line;
  context.host = collect_host_facts();
  context.devices = devices;
  capture_precision_flags(context);
  if (std::any_of(devices.begin(), devices.end(), [](const DeviceFacts& d) { return d.kind == "cuda"; }))
    context.graphs = options.graphs;
  for (const auto& warning : measurement_warnings(context.host)) std::cerr << "warning: " << warning << "\n";

  auto printer = make_printer(format, std::cout);
  printer->header(context);
  std::cout.flush();

  const int64_t run_id = db ? db->begin_run(context) : 0;
  int done = 0, errors = 0;
  RowStore<Result> store([&](Result& r) { db->add_result(run_id, r); });
  std::string profile_report;  // printed after its row, not across the live progress line
  auto on_result = [&](Result& r) {
    ++done;
    if (r.status == Status::error) ++errors;
    if (db) {
      r.run_id = run_id;
      store.add(r);  // a row the database refuses now is retried before the next one
    }
    printer->row(r);
    std::cout.flush();
    std::cerr << profile_report;
    profile_report.clear();
  };

  std::optional<InterruptScope> interrupt(std::in_place, "the current iteration");
  const auto progress = make_progress(isatty(STDERR_FILENO));
  const SweepRequest request = make_request(options, devices);
  Runner runner(make_policy(options), request.open, context, *progress, InterruptScope::flag());
  runner.on_profile([&](const std::string& report) { profile_report = report; });
  bool completed = false;
  try {
    completed = runner.run(plan, on_result);
  } catch (const InputFileError& e) {
    // A bad --weights or --data file: every configuration would fail the same way.
    interrupt.reset();
    if (db) finish_storing(*db, run_id, "stopped", store);  // names any row it could not store
    printer->footer();
    std::cout.flush();
    std::cerr << "mlspeed run: " << e.what() << "\n";
    if (db)
      std::cerr << "mlspeed run: kept the " << store.stored() << " results completed before it in " << db->path()
                << "\n";
    return 2;
  }
  interrupt.reset();

  const bool all_stored = !db || finish_storing(*db, run_id, completed ? "complete" : "interrupted", store);
  printer->footer();
  std::cout.flush();

  if (!completed) {
    std::cerr << "mlspeed run: interrupted after " << done << " of " << plan.size() << " configurations; ";
    if (db) std::cerr << "kept " << store.stored() << " results in " << db->path() << " (run " << run_id << ")\n";
    else std::cerr << "the " << done << " completed results are printed above (--no-db: not stored)\n";
    return 130;
  }
  if (db && all_stored)
    std::cerr << "mlspeed run: stored run " << run_id << " (" << store.stored() << " results) in " << db->path()
              << "\n";
  return errors > 0 || !all_stored ? 1 : 0;
}

}  // namespace mlspeed::cli
