// The CPU's energy from Linux's powercap interface to RAPL (Intel since Sandy Bridge, AMD since
// Zen): /sys/class/powercap/intel-rapl:N is package N, its child zone named "dram" the memory
// attached to it. Each zone's energy_uj is a counter in microjoules that wraps at
// max_energy_range_uj; the meter reads every package and DRAM zone at start, every 100 ms while
// the region runs (so that a wrap is seen however long the region) and at stop. A "psys" zone
// (the whole platform, on some laptops) holds the packages too and is not added to them. The
// cores' clock comes from cpufreq's scaling_cur_freq, sampled with the counters.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mlspeed/device/energy.h"

namespace mlspeed {

// A file's text, or the errno that reading it failed with (0: read).
struct SysfsText {
  std::string text;
  int error = 0;
};
using SysfsReader = std::function<SysfsText(const std::string& path)>;
SysfsText read_sysfs(const std::string& path);

// The meter under `sysfs` ($MLSPEED_SYSFS_ROOT, default /sys: the tests point it at a tree of
// their own), reading files through `read` (the tests' seam for a permission error).
std::unique_ptr<EnergyMeter> make_powercap_meter(const std::string& sysfs, const SysfsReader& read = read_sysfs);
std::unique_ptr<EnergyMeter> make_powercap_meter();

}  // namespace mlspeed
