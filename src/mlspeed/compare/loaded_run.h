// A run to compare or report, wherever it came from: this machine's results database, a file
// exported on another machine (`mlspeed export`), or a bundled reference set of published figures.
// `compare` and `report` work on these and never on the database directly.
#pragma once

#include <string>
#include <vector>

#include "mlspeed/results/database.h"
#include "mlspeed/results/result.h"
#include "mlspeed/verify/check.h"

namespace mlspeed {

struct LoadedRun {
  // How the user named it, for headings: "run 12", "label:driver 580", "m3max.json", "ref:bert-t4".
  std::string name;
  // The run's record: id (0 when it is not in this database), times, status, command, kind
  // ("run" or "verify"), label, row count and the full context it was measured in.
  StoredRun run;
  std::vector<Result> rows;                   // kind "run": one per configuration
  std::vector<verify::CheckResult> checks;    // kind "verify": one per check
  // Published figures measured by other code (a bundled reference set): where they were
  // published, e.g. "Macbook Pro GPU for ML? (blog), table 1". Empty for mlspeed's own runs.
  std::string citation;

  bool published() const { return !citation.empty(); }
};

}  // namespace mlspeed
