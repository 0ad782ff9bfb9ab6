// Which runs a report shows when none are named: the newest speed run in the results database,
// and the newest verify run of the same host, if any, so that its verdicts sit beside the speeds.
#pragma once

#include <string>
#include <vector>

namespace mlspeed::report {

// Run ids as `load_run` takes them (compare/run_source.h). Throws UsageError when the database
// does not exist or holds no run with rows.
std::vector<std::string> default_run_specs(const std::string& db_path);

}  // namespace mlspeed::report
