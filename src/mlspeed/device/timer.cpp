#include "mlspeed/device/timer.h"

#include <c10/core/Device.h>

#include <chrono>

#include "mlspeed/device/cuda.h"
#include "mlspeed/device/device.h"

namespace mlspeed {
namespace {

// Host clock around a region, with the device synchronised at both ends.
class HostClockTimer : public Timer {
 public:
  explicit HostClockTimer(const c10::Device& device) : device_(device) {}
  void start() override {
    synchronize(device_);
    start_ = std::chrono::steady_clock::now();
  }
  void stop() override {
    synchronize(device_);
    end_ = std::chrono::steady_clock::now();
  }
  double elapsed_ms() override { return std::chrono::duration<double, std::milli>(end_ - start_).count(); }

 private:
  c10::Device device_;
  std::chrono::steady_clock::time_point start_, end_;
};

}  // namespace

std::unique_ptr<Timer> make_timer(const c10::Device& device) {
  if (device.is_cuda()) return cuda::make_event_timer(device.index());
  return std::make_unique<HostClockTimer>(device);
}

}  // namespace mlspeed
