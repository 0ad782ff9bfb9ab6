// Timing one region of device work. The device is synchronised around every timed region, so
// a sample is the time the work took on the device, not the time to enqueue it.
#pragma once

#include <memory>

namespace c10 {
struct Device;
}

namespace mlspeed {

class Timer {
 public:
  virtual ~Timer() = default;
  virtual void start() = 0;
  // Waits for the device to finish the region and returns its duration in milliseconds.
  virtual double stop_ms() = 0;
};

// CUDA: a pair of device events on the current stream. CPU: the host's steady clock (CPU ops
// are synchronous). MPS: synchronise, then the host clock.
std::unique_ptr<Timer> make_timer(const c10::Device& device);

}  // namespace mlspeed
