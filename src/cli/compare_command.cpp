// `mlspeed compare`: runs side by side (or the devices of one run) with a verdict from the raw
// samples for each configuration, and an exit status a script can gate an update on.
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/compare/comparison_printer.h"
#include "mlspeed/compare/references.h"
#include "mlspeed/compare/run_source.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"

namespace mlspeed::cli {
namespace {

// One entry a reference set: its name and what it holds (the first sentence), then its source.
int list_reference_sets() {
  for (const ReferenceInfo& ref : list_references()) {
    const std::string summary = ref.description.substr(0, ref.description.find(". "));
    std::cout << "ref:" << ref.name << "\n  " << summary << "\n  " << (ref.published ? "published: " : "")
              << ref.citation << "\n";
  }
  std::cout << "\nPublished figures were measured by other code on other machines: `compare` shows their ratio to "
               "yours, never a verdict.\n";
  return 0;
}

// --fail-if-slower: 1, naming every configuration that failed, or 0.
int gate(const Comparison& comparison, double percent) {
  const std::vector<std::string> slower = slower_beyond(comparison, percent);
  for (const std::string& line : slower) std::cerr << "mlspeed compare: slower beyond noise: " << line << "\n";
  if (!slower.empty()) {
    std::cerr << "mlspeed compare: " << slower.size() << (slower.size() == 1 ? " configuration is" : " configurations are")
              << printf_string(" more than %g%% slower (--fail-if-slower): exit status 1\n", percent);
    return 1;
  }
  std::cerr << printf_string("mlspeed compare: no configuration is slower beyond noise by more than %g%%\n", percent);
  return 0;
}

}  // namespace

int compare_command(const CompareOptions& options) {
  if (options.list_references) return list_reference_sets();
  const std::string db_path = options.db.empty() ? Database::default_path() : options.db;
  std::vector<LoadedRun> runs;
  for (const std::string& spec : options.runs) runs.push_back(load_run(spec, db_path));
  const Comparison comparison = options.devices.empty()
                                    ? compare_runs(runs, options.settings)
                                    : compare_devices(runs.front(), options.devices, options.settings);
  print_comparison(comparison, options.format, std::cout, std::cerr);
  std::cout.flush();
  return options.fail_if_slower ? gate(comparison, *options.fail_if_slower) : 0;
}

}  // namespace mlspeed::cli
