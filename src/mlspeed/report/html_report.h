// The report as one self-contained HTML page: the context of each run side by side, each device's
// verify verdict, and per workload the charts (throughput with the spread of the samples, speedup
// against the baseline, MFU and bandwidth utilisation) drawn by Chart.js, which is inlined with the
// data, so the page opens offline and fetches nothing.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mlspeed/report/report_model.h"

namespace mlspeed::report {

// Throws UsageError when this build has no Chart.js to inline (chartjs.h).
std::string render_html(const ReportModel& model);

// The colours of `n` series, all different, in the order series are numbered: a run and device
// keep one colour in every chart and in the legend chips.
std::vector<std::string> series_colours(size_t n);

// Text made safe in HTML element content and attribute values: & < > " ' as entities.
std::string html_escape(const std::string& text);

// JSON text safe inside a <script> element: '<', '>' and '&' as \u escapes, so no string from a
// row (a workload or host name such as "</script><script>...") can close the element; invalid
// UTF-8 is replaced rather than refused.
std::string script_json(const nlohmann::json& value);

}  // namespace mlspeed::report
