#include "mlspeed/verify/target.h"

#include <mutex>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/verify/faults.h"

namespace mlspeed::verify {

bool is_fallback_warning(const std::string& message) {
  // MPS: "The operator 'aten::foo' is not currently supported on the MPS backend and will fall
  // back to run on the CPU. This may have performance implications." Other backends word it
  // alike ("falling back to the CPU").
  for (const char* phrase : {"fall back to run on the CPU", "fall back to the CPU", "falling back to the CPU",
                             "falls back to the CPU", "fallback to CPU", "falling back to CPU"})
    if (message.find(phrase) != std::string::npos) return true;
  return false;
}

Target make_target(const DeviceFacts& facts, const std::string& fault_name) {
  Target target;
  target.facts = facts;
  target.device = torch_device(facts);
  if (!fault_name.empty()) {
    target.fault = find_fault(fault_name);
    if (!target.fault) {
      std::vector<std::string> names;
      for (const Fault& f : faults()) names.push_back(f.name);
      throw UsageError("unknown fault '" + fault_name + "'; the faults are: " + join(names, ", "));
    }
  }
  return target;
}

struct DeviceScope::State : compat::WarningCollector {
  mutable std::mutex mutex;  // 2.x may report warnings raised on the autograd engine's threads
  std::vector<std::string> fallbacks;
  std::vector<std::string> others;
  std::optional<compat::WarningCapture> capture;
  std::optional<Injection> injection;

  void on_warning(const std::string& message) override {
    std::lock_guard<std::mutex> lock(mutex);
    (is_fallback_warning(message) ? fallbacks : others).push_back(message);
  }
};

DeviceScope::DeviceScope(const Target& target) : state_(std::make_unique<State>()) {
  state_->capture.emplace(state_.get());
  state_->injection.emplace(target.fault);
}

DeviceScope::~DeviceScope() {
  state_->injection.reset();
  state_->capture.reset();
}

std::vector<std::string> DeviceScope::fallbacks() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->fallbacks;
}

std::vector<std::string> DeviceScope::warnings() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->others;
}

}  // namespace mlspeed::verify
