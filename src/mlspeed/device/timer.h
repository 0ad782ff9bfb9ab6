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
  // Marks the end of the region. On CUDA this records an event and returns at once, so a mark
  // inside a step (the first token of a generation) costs the step no host synchronisation.
  virtual void stop() = 0;
  // Waits for the region between start() and stop() to finish on the device; its duration in ms.
  virtual double elapsed_ms() = 0;
  double stop_ms() {
    stop();
    return elapsed_ms();
  }
};

// CUDA: a pair of device events on the current stream. CPU: the host's steady clock (CPU ops
// are synchronous). MPS: synchronise, then the host clock.
std::unique_ptr<Timer> make_timer(const c10::Device& device);

}  // namespace mlspeed
