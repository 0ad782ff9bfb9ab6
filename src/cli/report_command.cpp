// `mlspeed report`: runs from anywhere (the database, exported files, published figures) as one
// HTML page with charts or a markdown summary, written whole or not at all.
#include <algorithm>
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/compare/run_source.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/report/chartjs.h"
#include "mlspeed/report/html_report.h"
#include "mlspeed/report/markdown_report.h"
#include "mlspeed/report/report_runs.h"
#include "mlspeed/results/database.h"

namespace mlspeed::cli {

int report_command(const ReportOptions& options) {
  if (options.format == ReportFormat::html && report::chartjs_source().empty())
    throw UsageError(
        "this mlspeed was built without Chart.js, which HTML reports inline: install libjs-chart.js "
        "(apt-get install libjs-chart.js), reconfigure and rebuild (cmake -S . -B build && cmake --build "
        "build), or write a markdown summary with --output summary.md");
  const std::string db = options.db.empty() ? Database::default_path() : options.db;
  std::vector<std::string> specs = options.runs;
  if (specs.empty()) {
    report::DefaultRuns chosen = report::default_runs(db);
    for (const std::string& why : chosen.passed_over) std::cerr << "mlspeed report: left out " << one_line(why) << "\n";
    specs = std::move(chosen.specs);
  }
  size_t baseline = 0;
  if (!options.baseline.empty()) {
    auto named = std::find(specs.begin(), specs.end(), options.baseline);
    if (named == specs.end())
      specs.insert(specs.begin(), options.baseline);
    else
      baseline = size_t(named - specs.begin());
  }
  std::vector<LoadedRun> runs;
  for (const std::string& spec : specs) runs.push_back(load_run(spec, db));
  const report::ReportModel model = report::build_report(runs, baseline);
  const std::string text =
      options.format == ReportFormat::html ? report::render_html(model) : report::render_markdown(model);
  // Written beside the target and renamed over it: never half a report.
  const std::string why = write_whole_file(options.output, text);
  if (!why.empty()) throw UsageError("-o: " + why + "; choose a path you can write");
  std::cerr << "wrote " << options.output << ": " << runs.size() << (runs.size() == 1 ? " run, " : " runs, ")
            << model.workloads.size() << (model.workloads.size() == 1 ? " workload" : " workloads")
            << (model.baseline.empty() ? "" : ", speedups against " + model.baseline) << "\n";
  return 0;
}

}  // namespace mlspeed::cli
