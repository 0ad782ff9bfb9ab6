// Which runs a report shows when none are named: the newest speed run in the results database,
// and the newest verify run of the same host, if any, so that its verdicts sit beside the speeds.
#pragma once

#include <string>
#include <vector>

namespace mlspeed::report {

struct DefaultRuns {
  std::vector<std::string> specs;        // run ids as `load_run` takes them (compare/run_source.h)
  std::vector<std::string> passed_over;  // why each run whose context is damaged was left out
};

// Throws UsageError when the database does not exist or holds no readable run with rows.
DefaultRuns default_runs(const std::string& db_path);

}  // namespace mlspeed::report
