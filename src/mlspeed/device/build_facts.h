// Facts about this build of mlspeed that every result row carries (HostFacts), from the
// definitions CMake gives this one file, so that no larger file is compiled apart for them.
#pragma once

#include <string>

namespace mlspeed {

std::string mlspeed_version();     // the project version, e.g. "0.1.0"
std::string build_type();          // CMAKE_BUILD_TYPE; "... (unoptimised)" when built without -O
bool built_with_sanitizers();      // ASan, TSan, MSan or UBSan (MLSPEED_SANITIZE)

}  // namespace mlspeed
