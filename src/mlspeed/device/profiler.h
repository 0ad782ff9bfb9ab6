// LibTorch's own profiler (Kineto) around a piece of work: the host operations it ran and, on
// CUDA, the kernels, copies and memsets the device ran (CUPTI sees kernels a graph replay
// launches too). What `run --profile` writes and summarises.
#pragma once

#include <functional>
#include <vector>

#include "mlspeed/device/profile_summary.h"

namespace c10 {
struct Device;
}

namespace mlspeed {

// Runs `work` under the profiler and returns its events. `work` must leave the device idle
// (synchronise at its end) so that every kernel it launched is recorded.
std::vector<ProfiledEvent> capture_profile(const c10::Device& device, const std::function<void()>& work);

}  // namespace mlspeed
