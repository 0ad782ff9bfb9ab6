#include "mlspeed/device/nvml_energy.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "mlspeed/core/text.h"
#include "mlspeed/device/cuda.h"
#include "mlspeed/device/periodic_sampler.h"
#include "mlspeed/device/stepped_counter.h"

namespace mlspeed {
namespace {

// NVML's C API as nvml.h declares it (the few functions read here): int results, an opaque
// device handle.
using NvmlReturn = int;
using NvmlDevice = void*;
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr NvmlReturn kNvmlNotSupported = 3;
constexpr NvmlReturn kNvmlGpuIsLost = 15;
constexpr int kNvmlClockSm = 1;         // NVML_CLOCK_SM
constexpr int kNvmlTemperatureGpu = 0;  // NVML_TEMPERATURE_GPU

// The clock-event reasons that hold a busy GPU's clock down, by bit (nvml.h's
// nvmlClocksEventReason*): software power cap, hardware slowdown, software and hardware thermal
// slowdown, hardware power brake.
struct Reason {
  unsigned long long bit;
  const char* word;
};
constexpr Reason kReasons[] = {
    {0x4, "power-cap"}, {0x8, "hw-slowdown"}, {0x20, "thermal"}, {0x40, "hw-thermal"}, {0x80, "hw-power-brake"}};

struct Nvml {
  std::string error;  // why the library cannot be used; empty when it can
  const char* (*error_string)(NvmlReturn) = nullptr;
  NvmlReturn (*by_index)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*by_pci_bus_id)(const char*, NvmlDevice*) = nullptr;
  NvmlReturn (*total_energy)(NvmlDevice, unsigned long long*) = nullptr;  // mJ
  NvmlReturn (*power)(NvmlDevice, unsigned*) = nullptr;                   // mW
  NvmlReturn (*clock)(NvmlDevice, int, unsigned*) = nullptr;              // MHz
  NvmlReturn (*temperature)(NvmlDevice, int, unsigned*) = nullptr;        // degrees C
  NvmlReturn (*reasons)(NvmlDevice, unsigned long long*) = nullptr;

  std::string what(NvmlReturn code) const {
    return error_string ? std::string(error_string(code)) : "NVML error " + std::to_string(code);
  }
};

template <class F>
bool bind(void* library, const char* symbol, F& out) {
  out = reinterpret_cast<F>(dlsym(library, symbol));
  return out != nullptr;
}

// The library at `path`, loaded and initialised once per process (NVML's own counting keeps it
// initialised until exit).
const Nvml& nvml(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, Nvml> loaded;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = loaded.find(path); it != loaded.end()) return it->second;
  Nvml& n = loaded[path];
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    n.error = path + " could not be loaded (no NVIDIA driver on this machine?)";
    return n;
  }
  NvmlReturn (*init)() = nullptr;
  if (!bind(library, "nvmlInit_v2", init) || !bind(library, "nvmlDeviceGetHandleByIndex_v2", n.by_index) ||
      !bind(library, "nvmlDeviceGetTotalEnergyConsumption", n.total_energy) ||
      !bind(library, "nvmlDeviceGetPowerUsage", n.power) || !bind(library, "nvmlDeviceGetClockInfo", n.clock) ||
      !bind(library, "nvmlDeviceGetTemperature", n.temperature)) {
    n.error = path + " lacks the functions mlspeed reads (an NVML older than Volta's drivers?)";
    return n;
  }
  bind(library, "nvmlErrorString", n.error_string);
  bind(library, "nvmlDeviceGetHandleByPciBusId_v2", n.by_pci_bus_id);
  if (!bind(library, "nvmlDeviceGetCurrentClocksEventReasons", n.reasons))
    bind(library, "nvmlDeviceGetCurrentClocksThrottleReasons", n.reasons);
  if (const NvmlReturn r = init(); r != kNvmlSuccess) n.error = "nvmlInit failed: " + n.what(r);
  return n;
}

// The energy counter is read every 2 ms, so that each of its steps (about 100 ms apart) is placed
// within a millisecond (device/stepped_counter.h); the clocks, temperature, reasons and power every
// 10 ms.
constexpr int kCounterPeriodMs = 2;
constexpr int kReadsPerSample = 5;
// A step whose two reads are further apart than two periods (the reading thread held back on a busy
// machine) is too loosely placed to end the rate's span (device/stepped_counter.h).
constexpr double kStepBracketSeconds = 2 * kCounterPeriodMs / 1e3;

double seconds_into_region(std::chrono::steady_clock::time_point origin) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin).count();
}

class NvmlMeter : public EnergyMeter {
 public:
  NvmlMeter(const Nvml& api, NvmlDevice device)
      : api_(api),
        device_(device),
        sampler_(std::chrono::milliseconds(kCounterPeriodMs), [this] { tick(); }) {}

  void start() override {
    const std::lock_guard<std::mutex> lock(mutex_);
    failure_.clear();
    clocks_.clear();
    power_mw_.clear();
    reasons_ = 0;
    temperature_ = -1;
    unsigned long long mj = 0;
    const NvmlReturn r = api_.total_energy(device_, &mj);
    counter_ = r == kNvmlSuccess;
    if (!counter_ && r != kNvmlNotSupported) fail("reading the energy counter", r);
    start_mj_ = mj;
    started_ = std::chrono::steady_clock::now();
    steps_.start(0, static_cast<double>(mj));
    ticks_ = 0;
    sampler_.start();
  }

  EnergyReading stop() override {
    sampler_.stop();
    sample();
    const std::lock_guard<std::mutex> lock(mutex_);
    EnergyReading out;
    out.seconds = seconds_into_region(started_);
    summarise_clocks(clocks_, out);
    if (temperature_ >= 0) out.temperature_max_c = temperature_;
    for (const Reason& reason : kReasons)
      if (reasons_ & reason.bit) out.throttle_reasons.push_back(reason.word);
    if (counter_ && failure_.empty()) read_counter(out);
    else if (failure_.empty()) integrate_power(out);
    if (!failure_.empty()) out.unavailable = "not available: " + failure_;
    return out;
  }

 private:
  void fail(const char* doing, NvmlReturn r) {
    if (!failure_.empty()) return;
    failure_ = r == kNvmlGpuIsLost ? "the GPU was lost during the run (NVML: " + api_.what(r) + ")"
                                   : std::string("NVML failed ") + doing + ": " + api_.what(r);
  }

  void read_counter(EnergyReading& out) {
    unsigned long long mj = 0;
    const NvmlReturn r = api_.total_energy(device_, &mj);
    if (r != kNvmlSuccess) return fail("reading the energy counter", r);
    if (mj < start_mj_) {
      failure_ = "the GPU's energy counter went backwards (the driver reloaded?)";
      return;
    }
    steps_.read(out.seconds, static_cast<double>(mj));
    // Over a region that holds several of the counter's steps, its rate between them; else the
    // plain difference, off by up to one step.
    if (const std::optional<double> mj_per_s = steps_.rate(out.seconds / 2); mj_per_s && *mj_per_s > 0) {
      out.joules = *mj_per_s * out.seconds / 1e3;
      out.source = printf_string("nvml energy counter (its rate between steps, every %.0f ms)",
                                 *steps_.step_seconds() * 1e3);
      return;
    }
    out.joules = double(mj - start_mj_) / 1e3;
    out.source = "nvml energy counter (difference)";
  }

  void tick() {
    if (ticks_++ % kReadsPerSample == kReadsPerSample - 1) sample();
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!counter_ || !failure_.empty()) return;
    unsigned long long mj = 0;
    const NvmlReturn r = api_.total_energy(device_, &mj);
    if (r == kNvmlSuccess) steps_.read(seconds_into_region(started_), static_cast<double>(mj));
    else fail("reading the energy counter", r);
  }

  // The mean of the power samples times the region's length: a GPU without an energy counter.
  void integrate_power(EnergyReading& out) {
    if (power_mw_.empty()) {
      failure_ = "no power sample was read during the region";
      return;
    }
    double sum = 0;
    for (double mw : power_mw_) sum += mw;
    out.joules = sum / double(power_mw_.size()) / 1e3 * out.seconds;
    out.source = "nvml power samples";
  }

  void sample() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!failure_.empty()) return;
    unsigned value = 0;
    if (const NvmlReturn r = api_.clock(device_, kNvmlClockSm, &value); r == kNvmlSuccess) clocks_.push_back(value);
    else if (r == kNvmlGpuIsLost) return fail("reading the SM clock", r);
    if (api_.temperature(device_, kNvmlTemperatureGpu, &value) == kNvmlSuccess)
      temperature_ = std::max(temperature_, static_cast<double>(value));
    unsigned long long bits = 0;
    if (api_.reasons && api_.reasons(device_, &bits) == kNvmlSuccess) reasons_ |= bits;
    if (!counter_) {
      if (const NvmlReturn r = api_.power(device_, &value); r == kNvmlSuccess) power_mw_.push_back(value);
      else fail("reading the power", r);
    }
  }

  const Nvml& api_;
  NvmlDevice device_;
  std::mutex mutex_;
  bool counter_ = false;
  unsigned long long start_mj_ = 0;
  SteppedCounter steps_{kStepBracketSeconds};
  long ticks_ = 0;  // the sampler thread's alone
  std::vector<double> clocks_, power_mw_;
  unsigned long long reasons_ = 0;
  double temperature_ = -1;
  std::string failure_;
  std::chrono::steady_clock::time_point started_;
  PeriodicSampler sampler_;  // last: stopped before the members it reads go
};

}  // namespace

std::unique_ptr<EnergyMeter> make_nvml_meter(const std::string& library, const std::string& pci_bus_id, int index) {
  const Nvml& api = nvml(library);
  if (!api.error.empty()) return unavailable_energy_meter(api.error);
  NvmlDevice device = nullptr;
  const NvmlReturn r = !pci_bus_id.empty() && api.by_pci_bus_id ? api.by_pci_bus_id(pci_bus_id.c_str(), &device)
                                                                 : api.by_index(static_cast<unsigned>(index), &device);
  if (r != kNvmlSuccess)
    return unavailable_energy_meter("NVML has no GPU " + (pci_bus_id.empty() ? std::to_string(index) : pci_bus_id) +
                                    ": " + api.what(r));
  return std::make_unique<NvmlMeter>(api, device);
}

std::unique_ptr<EnergyMeter> make_nvml_meter(int cuda_index) {
  const char* library = std::getenv("MLSPEED_NVML_LIBRARY");
  return make_nvml_meter(library && *library ? library : "libnvidia-ml.so.1", cuda::pci_bus_id(cuda_index),
                         cuda_index);
}

}  // namespace mlspeed
