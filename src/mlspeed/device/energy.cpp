#include "mlspeed/device/energy.h"

#include <algorithm>
#include <chrono>

#include "mlspeed/device/nvml_energy.h"
#include "mlspeed/device/powercap_energy.h"

namespace mlspeed {
namespace {

class UnavailableMeter : public EnergyMeter {
 public:
  explicit UnavailableMeter(std::string why) : why_("not available: " + std::move(why)) {}
  void start() override { started_ = std::chrono::steady_clock::now(); }
  EnergyReading stop() override {
    EnergyReading r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    r.unavailable = why_;
    return r;
  }

 private:
  std::string why_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

std::unique_ptr<EnergyMeter> unavailable_energy_meter(std::string why) {
  return std::make_unique<UnavailableMeter>(std::move(why));
}

std::unique_ptr<EnergyMeter> make_energy_meter(const DeviceFacts& device) {
  if (device.kind == "cuda") return make_nvml_meter(device.index);
  if (device.kind == "cpu") return make_powercap_meter();
  if (device.kind == "mps")
    return unavailable_energy_meter("Apple's energy counters are read by powermetrics, which needs root; mlspeed "
                                    "does not run it");
  return unavailable_energy_meter("no energy counters known for " + device.kind + " devices");
}

void summarise_clocks(std::vector<double> samples, EnergyReading& reading) {
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  reading.clock_min_mhz = samples.front();
  const size_t n = samples.size();
  reading.clock_median_mhz = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

}  // namespace mlspeed
