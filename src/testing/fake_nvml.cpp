// A fake NVML (libnvidia-ml.so.1) for the energy tests: the functions device/nvml_energy.cpp
// reads, with behaviour set by environment variables read at every call, so that one loaded copy
// serves every test:
//   FAKE_NVML_WATTS      the power drawn (default 200): the energy counter is 1e6 mJ plus this
//                        many watts times the milliseconds since fake_nvml_reset()
//   FAKE_NVML_STEP_MS    the counter's value changes only every this many milliseconds (as a real
//                        one does, about every 100 ms); default: at every read
//   FAKE_NVML_NO_ENERGY  1: no energy counter (NVML_ERROR_NOT_SUPPORTED), as before Volta
//   FAKE_NVML_BACKWARDS  1: the counter goes down by 1 J at every read
//   FAKE_NVML_LOST_AFTER N: every device call after the N-th since the reset fails with
//                        NVML_ERROR_GPU_IS_LOST
//   FAKE_NVML_SM_CLOCKS  "1980,1500": the SM clocks returned, in turn
//   FAKE_NVML_REASONS    the clock-event reason bits returned (decimal)
//   FAKE_NVML_INIT       the result of nvmlInit_v2 (default 0, success)
//   FAKE_NVML_NO_DEVICE  1: no device has the asked PCI bus id or index (NVML_ERROR_NOT_FOUND)
// Built as a shared library by CMakeLists.txt for the tests only; nothing of mlspeed links it.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::atomic<long> calls{0};
std::atomic<long> clock_calls{0};
std::atomic<long long> backwards{0};
std::chrono::steady_clock::time_point origin = std::chrono::steady_clock::now();

long env(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : fallback;
}

// A device call: NVML_ERROR_GPU_IS_LOST (15) once FAKE_NVML_LOST_AFTER calls are made, else 0.
int device_call() {
  const long n = ++calls;
  const long lost_after = env("FAKE_NVML_LOST_AFTER", -1);
  return lost_after >= 0 && n > lost_after ? 15 : 0;
}

int handle(void** device) {
  if (env("FAKE_NVML_NO_DEVICE", 0)) return 6;  // NVML_ERROR_NOT_FOUND
  static int the_device;
  *device = &the_device;
  return 0;
}

}  // namespace

extern "C" {

void fake_nvml_reset() {
  calls = 0;
  clock_calls = 0;
  backwards = 0;
  origin = std::chrono::steady_clock::now();
}

int nvmlInit_v2() { return static_cast<int>(env("FAKE_NVML_INIT", 0)); }
int nvmlShutdown() { return 0; }

const char* nvmlErrorString(int result) {
  switch (result) {
    case 0: return "Success";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 15: return "GPU is lost";
    default: return "Unknown Error";
  }
}

int nvmlDeviceGetHandleByIndex_v2(unsigned, void** device) { return handle(device); }
int nvmlDeviceGetHandleByPciBusId_v2(const char*, void** device) { return handle(device); }

int nvmlDeviceGetTotalEnergyConsumption(void*, unsigned long long* mj) {
  if (const int r = device_call()) return r;
  if (env("FAKE_NVML_NO_ENERGY", 0)) return 3;
  if (env("FAKE_NVML_BACKWARDS", 0)) {
    *mj = static_cast<unsigned long long>(1000000000LL - 1000 * ++backwards);
    return 0;
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - origin).count();
  if (const long step = env("FAKE_NVML_STEP_MS", 0); step > 0) ms = static_cast<double>(step) * std::floor(ms / step);
  *mj = static_cast<unsigned long long>(1e6 + static_cast<double>(env("FAKE_NVML_WATTS", 200)) * ms);
  return 0;
}

int nvmlDeviceGetPowerUsage(void*, unsigned* mw) {
  if (const int r = device_call()) return r;
  *mw = static_cast<unsigned>(env("FAKE_NVML_WATTS", 200) * 1000);
  return 0;
}

int nvmlDeviceGetClockInfo(void*, int, unsigned* mhz) {
  if (const int r = device_call()) return r;
  const char* spec = std::getenv("FAKE_NVML_SM_CLOCKS");
  std::vector<unsigned> clocks;
  for (std::string s = spec ? spec : "1980"; !s.empty();) {
    clocks.push_back(static_cast<unsigned>(std::atol(s.c_str())));
    const size_t comma = s.find(',');
    s = comma == std::string::npos ? "" : s.substr(comma + 1);
  }
  *mhz = clocks[static_cast<size_t>(clock_calls++) % clocks.size()];
  return 0;
}

int nvmlDeviceGetTemperature(void*, int, unsigned* celsius) {
  if (const int r = device_call()) return r;
  *celsius = 61;
  return 0;
}

int nvmlDeviceGetCurrentClocksEventReasons(void*, unsigned long long* reasons) {
  if (const int r = device_call()) return r;
  *reasons = static_cast<unsigned long long>(env("FAKE_NVML_REASONS", 0));
  return 0;
}

}  // extern "C"
