// Chart.js, the charting library `mlspeed report` inlines into its HTML so that the page opens
// offline. It is embedded at build time from Debian's libjs-chart.js (CMake's MLSPEED_CHARTJS
// names the file; chartjs_source.cpp.in is the template of the generated source).
#pragma once

#include <string_view>

namespace mlspeed::report {

// The minified library, empty when the build found none (HTML reports then cannot be written).
std::string_view chartjs_source();
// "3.9.1", from the file's banner; empty when unknown.
std::string_view chartjs_version();

}  // namespace mlspeed::report
