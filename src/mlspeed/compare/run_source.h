// Finding a run by the name a user gives it on the command line (`compare`, `report`, `export`):
//   12            run 12 of the results database
//   last          the newest run (of any kind), `last-1` the one before it
//   label:NAME    the newest run labelled NAME (`run --label NAME`)
//   ref:NAME      a bundled reference set of published figures (references.h)
//   FILE          a file written by `mlspeed export` (or `show -o json|jsonl`) on any machine
#pragma once

#include <string>
#include <vector>

#include "mlspeed/compare/loaded_run.h"

namespace mlspeed {

// Throws UsageError naming the spec and what was wrong (no such run, no run with that label, an
// unknown reference with the list of known ones, a file that is not an export), or naming the
// database when it does not exist and the spec needs it.
LoadedRun load_run(const std::string& spec, const std::string& db_path);

}  // namespace mlspeed
