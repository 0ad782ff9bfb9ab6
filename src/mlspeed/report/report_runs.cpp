#include "mlspeed/report/report_runs.h"

#include <algorithm>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/results/database.h"

namespace mlspeed::report {

std::vector<std::string> default_run_specs(const std::string& db_path) {
  if (!path_exists(db_path))
    throw UsageError("no results database at " + db_path + " yet; `mlspeed run` creates it (or pass --db PATH)");
  const Database db(db_path, Database::Access::read_only);
  std::vector<StoredRun> runs = db.runs();  // newest first
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const StoredRun& r) { return r.row_count == 0; }), runs.end());
  auto newest = [&](auto wanted) { return std::find_if(runs.begin(), runs.end(), wanted); };
  auto speed = newest([](const StoredRun& r) { return r.kind != "verify"; });
  if (speed == runs.end()) {
    auto verify = newest([](const StoredRun& r) { return r.kind == "verify"; });
    if (verify == runs.end())
      throw UsageError(db_path + " holds no runs with results yet; `mlspeed run` adds one (or name runs to report)");
    return {std::to_string(verify->id)};
  }
  const std::string& host = speed->context.host.hostname;
  auto verify = newest([&](const StoredRun& r) { return r.kind == "verify" && r.context.host.hostname == host; });
  std::vector<std::string> specs = {std::to_string(speed->id)};
  if (verify != runs.end()) specs.push_back(std::to_string(verify->id));
  return specs;
}

}  // namespace mlspeed::report
