// The report page's own style sheet and script (html_report.h puts them into the page). The
// script reads the page's JSON data and draws every <canvas data-metric> with Chart.js; when every
// chart has rendered it sets <body data-charts-drawn="N">, which the browser test reads back.
#pragma once

namespace mlspeed::report {

extern const char kPageStyle[];
extern const char kPageScript[];

}  // namespace mlspeed::report
