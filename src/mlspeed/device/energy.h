// Energy, clocks and throttling over a timed region: what a row's iterations cost in joules, and
// whether the chip slowed itself down while they ran (a row timed on a throttling GPU otherwise
// looks like a slow GPU). One meter a device, started before the timed iterations and stopped
// after them:
//   NVIDIA GPUs  NVML, loaded at run time (device/nvml_energy.h): the total-energy counter, or
//                sampled power where the GPU has no counter; SM clock, temperature and the
//                clock-event (throttle) reasons sampled while the region runs.
//   the CPU      the RAPL energy counters of Linux's powercap (device/powercap_energy.h): the
//                packages and their DRAM; the cores' clock sampled from cpufreq.
//   elsewhere    none: the reading says why in one line (Apple's counters need powermetrics,
//                which needs root; a VM has no RAPL; a file readable by root only).
// A meter never throws once made and never stops a row: what it cannot read, it says.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/device/device.h"

namespace mlspeed {

struct EnergyReading {
  std::optional<double> joules;  // the region's energy; empty when it could not be read
  double seconds = 0;            // the region's length on the host's steady clock
  std::string source;            // how joules was read: "nvml energy counter (difference)", "rapl package-0", ...
  std::string unavailable;       // "not available: <reason>" when joules is empty
  // Sampled while the region ran: the SM clock (NVIDIA) or the cores' mean clock (CPU), in MHz.
  std::optional<double> clock_min_mhz, clock_median_mhz;
  std::optional<double> temperature_max_c;
  // Why the clocks were held down at some sample, NVML's clock-event reasons in words ("thermal",
  // "power-cap", "hw-slowdown", "hw-power-brake"); reasons that cost nothing (idle, application
  // clocks, sync boost, display clock) are left out.
  std::vector<std::string> throttle_reasons;
};

class EnergyMeter {
 public:
  virtual ~EnergyMeter() = default;
  virtual void start() = 0;
  virtual EnergyReading stop() = 0;
};

// The meter for `device`: NVML for a CUDA device, powercap for the CPU, else one whose every
// reading says why there is none.
std::unique_ptr<EnergyMeter> make_energy_meter(const DeviceFacts& device);

// A meter that reads nothing, with the reason ("not available: " and `why`).
std::unique_ptr<EnergyMeter> unavailable_energy_meter(std::string why);

// min and median of clock samples (MHz) into the reading; nothing for no samples.
void summarise_clocks(std::vector<double> samples, EnergyReading& reading);

}  // namespace mlspeed
