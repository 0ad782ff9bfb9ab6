#include "mlspeed/device/periodic_sampler.h"

namespace mlspeed {

PeriodicSampler::PeriodicSampler(std::chrono::milliseconds period, std::function<void()> sample)
    : period_(period), sample_(std::move(sample)) {}

PeriodicSampler::~PeriodicSampler() { stop(); }

void PeriodicSampler::start() {
  stop();
  running_ = true;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, period_, [this] { return !running_; })) sample_();
  });
}

void PeriodicSampler::stop() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace mlspeed
