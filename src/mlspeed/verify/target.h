// The device under test. Everything a check computes on the device runs inside a DeviceScope;
// the float64 CPU reference runs outside it. The scope records LibTorch's warnings, so an op
// that ran on the CPU instead of the device (MPS: "... will fall back to run on the CPU") is
// seen and counted as not tested, and, for the self-test, injects a fault (faults.h) into the
// device's computation path.
#pragma once

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "mlspeed/device/device.h"
#include "mlspeed/device/precision_flags.h"  // Tf32Scope: a "tf32" check sets TF32 for its life

namespace mlspeed::verify {

struct Fault;

struct Target {
  DeviceFacts facts;          // facts.id is what rows call the device ("cuda:0")
  c10::Device device{c10::kCPU};
  const Fault* fault = nullptr;  // injected fault (self-test); null for a real verification
};

// Makes a Target for a discovered device, with an optional fault by name (throws UsageError for
// an unknown fault, listing the known ones).
Target make_target(const DeviceFacts& facts, const std::string& fault_name = "");

class DeviceScope {
 public:
  explicit DeviceScope(const Target& target);
  ~DeviceScope();
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

  // The CPU-fallback warnings raised so far inside the scope (empty: everything ran on the device).
  std::vector<std::string> fallbacks() const;
  // Every other warning raised inside the scope, kept so none is lost.
  std::vector<std::string> warnings() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Whether a LibTorch warning says an op ran on the CPU instead of the device.
bool is_fallback_warning(const std::string& message);

}  // namespace mlspeed::verify
