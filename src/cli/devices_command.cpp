// `mlspeed devices`: every device LibTorch can reach, with the facts results are recorded with.
#include <ATen/Context.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"
#include "mlspeed/results/context.h"

namespace mlspeed::cli {

int devices_command(bool json) {
  RunContext context;
  context.host = collect_host_facts();
  context.devices = discover_devices(/*measure_cpu_peak=*/true);
  context.tf32_default = compat::tf32_matmul_enabled();
  context.deterministic = at::globalContext().deterministicAlgorithms();
  context.cudnn_benchmark = at::globalContext().benchmarkCuDNN();
  if (json) {
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
