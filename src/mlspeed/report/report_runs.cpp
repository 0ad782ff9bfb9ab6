#include "mlspeed/report/report_runs.h"

#include <algorithm>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed::report {

DefaultRuns default_runs(const std::string& db_path) {
  if (!path_exists(db_path))
    throw UsageError("no results database at " + db_path + " yet; `mlspeed run` creates it (or pass --db PATH)");
  const Database db(db_path, Database::Access::read_only);
  DefaultRuns chosen;
  std::vector<StoredRun> runs;  // newest first
  for (StoredRun& run : db.runs()) {
    if (run.row_count == 0) continue;
    if (run.context_error.empty()) runs.push_back(std::move(run));
    else chosen.passed_over.push_back(run.context_error);
  }
  auto newest = [&](auto wanted) { return std::find_if(runs.begin(), runs.end(), wanted); };
  auto of_kind = [](const char* kind) { return [kind](const StoredRun& r) { return r.kind == kind; }; };
  auto speed = newest(of_kind(RowType<Result>::kind));
  const char* verify_kind = RowType<verify::CheckResult>::kind;
  auto checks = newest(of_kind(verify_kind));
  if (speed == runs.end() && checks == runs.end())
    throw UsageError(db_path + " holds no runs with results yet; `mlspeed run` adds one (or name runs to report)");
  if (speed == runs.end()) {
    chosen.specs = {std::to_string(checks->id)};
    return chosen;
  }
  const std::string& host = speed->context.host.hostname;
  checks = newest([&](const StoredRun& r) { return r.kind == verify_kind && r.context.host.hostname == host; });
  chosen.specs = {std::to_string(speed->id)};
  if (checks != runs.end()) chosen.specs.push_back(std::to_string(checks->id));
  return chosen;
}

}  // namespace mlspeed::report
