#include "mlspeed/device/profiler.h"

#include <c10/core/Device.h>
#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed {
namespace {

namespace kineto = torch::autograd::profiler;
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

// Stops the profiler if `work` throws, so the next configuration does not run profiled.
struct ProfilerGuard {
  bool active = true;
  ~ProfilerGuard() {
    if (active) kineto::disableProfiler();
  }
};

}  // namespace

std::vector<ProfiledEvent> capture_profile(const c10::Device& device, const std::function<void()>& work) {
  const ProfilerConfig config(ProfilerState::KINETO);
  std::set<ActivityType> activities{ActivityType::CPU};
  if (device.is_cuda()) activities.insert(ActivityType::CUDA);
  kineto::prepareProfiler(config, activities);
  kineto::enableProfiler(config, activities);
  ProfilerGuard guard;
  work();
  guard.active = false;
  const std::unique_ptr<kineto::ProfilerResult> result = kineto::disableProfiler();

  std::vector<ProfiledEvent> events;
  events.reserve(result->events().size());
  for (const kineto::KinetoEvent& e : result->events()) {
    ProfiledEvent event;
    event.name = e.name();
    event.on_device = e.deviceType() != c10::DeviceType::CPU;
    // Device events carry their stream as the resource; host events their thread.
    event.thread = event.on_device ? static_cast<uint64_t>(e.deviceResourceId()) : e.startThreadId();
    event.start_us = compat::event_start_us(e);
    event.duration_us = compat::event_duration_us(e);
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace mlspeed
