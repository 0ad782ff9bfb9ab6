// A run read from a file (compare/run_file.h) stored in this machine's results database: `mlspeed
// import`. Apart from the reading, so that what reads run files needs no database (the fuzzer
// compiles the reader alone).
#pragma once

#include <cstdint>
#include <string>

#include "mlspeed/compare/loaded_run.h"
#include "mlspeed/results/database.h"

namespace mlspeed {

// Stores a run read from a file into `db` with its own record and context, marked as imported:
// its command becomes `import_command` ("mlspeed import m3max.json"); the command it was measured
// with stays in its context. A non-empty `label` replaces the file's. Returns the new run id.
int64_t store_imported_run(Database& db, const LoadedRun& run, const std::string& import_command,
                           const std::string& label);

}  // namespace mlspeed
