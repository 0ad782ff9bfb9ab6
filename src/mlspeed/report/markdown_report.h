// The report as a GitHub-pasteable markdown summary: the runs' context side by side, each
// device's verify verdict, and per workload a table of throughput per run and device with the
// speedups against the baseline; published figures marked with their citation.
#pragma once

#include <string>

#include "mlspeed/report/report_model.h"

namespace mlspeed::report {

std::string render_markdown(const ReportModel& model);

}  // namespace mlspeed::report
