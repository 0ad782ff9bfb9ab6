// `mlspeed devices`: every device LibTorch can reach, with the facts results are recorded with.

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"
#include "mlspeed/results/context.h"

namespace mlspeed::cli {

int devices_command(const ListingOptions& options) {
  RunContext context;
  context.host = collect_host_facts();
  context.devices = discover_devices(/*measure_cpu_peak=*/true);
  capture_precision_flags(context);
  if (options.format == Format::json) {
    nlohmann::json j = context;
    j.erase("started_at");
    j.erase("command");
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << describe_context(context);
    for (const auto& warning : measurement_warnings(context.host)) std::cout << "warning: " << warning << "\n";
  }
  return 0;
}

}  // namespace mlspeed::cli
