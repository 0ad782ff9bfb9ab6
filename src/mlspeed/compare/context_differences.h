// What differs between the contexts of runs set side by side, shown above `compare`'s table: a
// faster row means little when the other side ran another LibTorch, a Debug build, TF32 on, or a
// different GPU of the same kind. Each run after the first is set against the first (the baseline).
#pragma once

#include <string>
#include <vector>

#include "mlspeed/compare/loaded_run.h"

namespace mlspeed {

// One line each, e.g. "LibTorch: 1.13.1 (run 12) vs 2.5.1 (run 13)". Facts unknown on either side
// (a published reference set records few) are not compared. Also says which runs are Debug or
// sanitised builds and which are published figures measured by other code, with their citation.
std::vector<std::string> context_differences(const std::vector<LoadedRun>& runs);

}  // namespace mlspeed
