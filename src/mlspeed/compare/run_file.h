// The run file: one run carried between machines (`mlspeed export RUN > m3max.json`, then
// `mlspeed import m3max.json` or `mlspeed compare last m3max.json` elsewhere), and the format of
// the bundled reference sets. One JSON object:
//
//   {
//    "mlspeed_run_file": 1,                      the format's version (kRunFileVersion)
//    "run": {"id": 12, "started_at": "...", "finished_at": "...", "status": "complete",
//            "command": "mlspeed run ...", "kind": "run", "label": "driver 580"},
//    "citation": "...", "description": "...", "published": true,   reference sets only
//    "context": {...},                           the RunContext (results/context.h), complete
//    "rows": [{...}, ...]                        kind "run": speed results; "verify": checks
//   }
//
// Rows are written and read by the row formats (results/formats.h) from the row type's field list,
// exactly as `show -o json` writes them, so every field travels and a newer mlspeed's extra
// fields are skipped. A plain `show -o json` array or `-o jsonl` file reads too; it carries no
// run record, so the context is rebuilt from the rows' machine fields (results/machine_fields.h)
// and the result says so.
#pragma once

#include <string>
#include <string_view>

#include "mlspeed/compare/loaded_run.h"

namespace mlspeed {

inline constexpr int kRunFileVersion = 1;

// A run file as read: the run, and what only some files hold.
struct RunFile {
  LoadedRun run;               // run.id: the id it had where it was measured (0 if unknown)
  std::string description;     // reference sets: what was measured, in words
  std::string citation;        // reference sets: where the figures come from
  // Figures measured by other code (then run.citation is `citation`); false for mlspeed's own
  // recorded runs, whose run.citation stays empty so that LoadedRun::published() is false.
  bool published = false;
  bool context_rebuilt = false;  // read from rows alone (`show -o json|jsonl`): no run record
};

// The run file of `run` (its rows or checks, by run.run.kind). Reference sets also carry a
// `description` and a citation: the run's own for published figures, else `citation` (with
// "published": false).
std::string write_run_file(const LoadedRun& run, const std::string& description = "",
                           const std::string& citation = "");

// Reads a run file, or a `show -o json` array / `-o jsonl` lines of results or checks. `name`
// becomes LoadedRun::name. Throws std::invalid_argument saying what is wrong (not JSON, a newer
// version, no rows, a field that does not parse).
RunFile read_run_file(std::string_view text, const std::string& name);

}  // namespace mlspeed
