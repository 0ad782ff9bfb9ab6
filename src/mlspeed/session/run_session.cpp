#include "mlspeed/session/run_session.h"

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/host.h"

namespace mlspeed {

RunContext capture_context(const std::string& command_line, const std::vector<DeviceFacts>& devices) {
  RunContext context;
  context.started_at = now_iso8601();
  context.command = command_line;
  context.host = collect_host_facts();
  context.devices = devices;
  capture_precision_flags(context);
  return context;
}

std::string_view name(RunEnd end) {
  switch (end) {
    case RunEnd::complete: return "complete";
    case RunEnd::interrupted: return "interrupted";
    case RunEnd::stopped: return "stopped";
  }
  return "complete";
}

namespace {

std::string counted(int64_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

// "run 12" or "run 12 labelled "driver 580"": the names `compare` and `show` take.
std::string run_name(const StoreReport& r) {
  return "run " + std::to_string(r.run_id) + (r.label.empty() ? "" : " labelled \"" + r.label + "\"");
}

// Rows the database never took, one line each; or that it took them all in the end.
void print_storing(std::ostream& err, const StoreReport& r) {
  for (const std::string& row : r.unstored)
    err << r.program << ": not stored in " << r.path << ": " << row << " (printed above; " << r.last_error << ")\n";
  if (r.refusals > 0 && r.unstored.empty())
    err << r.program << ": the database refused " << r.refusals << " writes (" << r.last_error
        << "); every row was stored on a retry\n";
}

// "cannot write to standard output (Broken pipe): " when it could not, to begin the closing line.
std::string output_failure(const StoreReport& r) {
  return r.output_error.empty() ? "" : "cannot write to standard output (" + r.output_error + "): ";
}

void print_interrupted(std::ostream& err, const StoreReport& r) {
  err << r.program << ": " << (r.output_error.empty() ? "interrupted" : output_failure(r) + "stopped") << " after ";
  if (r.planned > 0) err << r.rows << " of " << r.planned << " " << r.planned_unit << "; ";
  else err << counted(r.rows, r.noun) << "; ";
  if (r.store) err << "kept " << counted(r.stored, r.noun) << " in " << r.path << " (" << run_name(r) << ")\n";
  else if (r.output_error.empty()) err << "the " << r.rows << " completed are printed above (--no-db: not stored)\n";
  else err << "--no-db: nothing was stored\n";
}

// The closing line of a run that was not cut short, or whose output failed after its last row.
void print_completed(std::ostream& err, const StoreReport& r) {
  if (r.store && r.unstored.empty())
    err << r.program << ": " << output_failure(r) << "stored " << run_name(r) << " (" << counted(r.stored, r.noun)
        << ") in " << r.path << "\n";
  else if (!r.output_error.empty())
    err << r.program << ": cannot write to standard output (" << r.output_error << ")\n";
}

}  // namespace

std::unique_ptr<Database> open_session_database(const std::string& path) {
  try {
    return std::make_unique<Database>(path.empty() ? Database::default_path() : path);
  } catch (const UsageError& e) {
    throw UsageError(std::string(e.what()) + ", or --no-db to not store results");
  }
}

void print_closing(std::ostream& err, const StoreReport& r, RunEnd end) {
  if (r.store) print_storing(err, r);
  if (!r.finish_error.empty())
    err << r.program << ": the run's status could not be recorded as " << name(end) << ": " << r.finish_error << "\n";
  switch (end) {
    case RunEnd::interrupted: print_interrupted(err, r); break;
    case RunEnd::stopped:
      if (r.store)
        err << r.program << ": " << output_failure(r) << "kept the " << counted(r.stored, r.noun)
            << " completed before it in " << r.path << "\n";
      else if (!r.output_error.empty())
        err << r.program << ": cannot write to standard output (" << r.output_error << ")\n";
      break;
    case RunEnd::complete: print_completed(err, r); break;
  }
  err.flush();
}

}  // namespace mlspeed
