// An NVIDIA GPU's energy, clocks and throttling from NVML, loaded at run time: libnvidia-ml.so.1
// comes with the driver, so mlspeed has no build-time dependency on it, and a machine without it
// says so in the row. The GPU is found by its PCI bus id (CUDA's numbering need not be NVML's).
//
// Energy comes from nvmlDeviceGetTotalEnergyConsumption (millijoules since the driver loaded; Volta
// and newer), read every 2 ms: the counter moves in steps (about every 100 ms), and its rate
// between the first and last step inside the region, times the region's length, is the region's
// energy (device/stepped_counter.h); a region too short for that gets the plain difference between
// start and stop, off by up to one step. Where the GPU has no such counter, the power
// (nvmlDeviceGetPowerUsage) sampled every 10 ms and integrated over the region. The SM clock, the
// temperature and the clock-event reasons (nvmlDeviceGetCurrentClocksEventReasons; ...Throttle-
// Reasons on drivers before 535) are sampled every 10 ms. A GPU lost mid-run, an error or a
// counter that went backwards leaves the energy empty with the reason; it never stops the row.
#pragma once

#include <memory>
#include <string>

#include "mlspeed/device/energy.h"

namespace mlspeed {

// The meter for CUDA device `cuda_index`; the library is $MLSPEED_NVML_LIBRARY if set (the tests'
// fake NVML), else libnvidia-ml.so.1.
std::unique_ptr<EnergyMeter> make_nvml_meter(int cuda_index);
// The same, for the GPU with this PCI bus id (NVML's device `index` when the id is empty), from
// `library`.
std::unique_ptr<EnergyMeter> make_nvml_meter(const std::string& library, const std::string& pci_bus_id, int index);

}  // namespace mlspeed
