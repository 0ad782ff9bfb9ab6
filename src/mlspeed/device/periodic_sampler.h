// Calls a function every `period` on a thread of its own while a timed region runs: the energy
// meters' clock, temperature and power samples, and their reads of counters that would wrap
// between a region's start and stop. The thread sleeps between samples; stop() wakes it at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace mlspeed {

class PeriodicSampler {
 public:
  PeriodicSampler(std::chrono::milliseconds period, std::function<void()> sample);
  ~PeriodicSampler();  // stops
  PeriodicSampler(const PeriodicSampler&) = delete;
  PeriodicSampler& operator=(const PeriodicSampler&) = delete;

  void start();  // samples every period from now on (the first after one period)
  void stop();   // returns once the thread has ended; no sample runs after it

 private:
  std::chrono::milliseconds period_;
  std::function<void()> sample_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace mlspeed
