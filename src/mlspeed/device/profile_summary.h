// What a profiled step spent its time on: the events LibTorch's profiler recorded over a few
// steps, summed per operation (host ops by self time, device kernels by their own time), the
// trace a person opens in Perfetto or chrome://tracing, and the table `run --profile` prints.
// Pure data: the capture itself lives in device/profiler.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlspeed {

struct ProfiledEvent {
  std::string name;      // "aten::mm", or a kernel's name
  bool on_device = false;  // a kernel, copy or memset the device ran; else a host operation
  uint64_t thread = 0;   // host thread (host ops), stream or resource (device)
  double start_us = 0;
  double duration_us = 0;
};

struct OpTime {
  std::string name;
  bool on_device = false;
  double calls_per_step = 0;
  double us_per_step = 0;  // self time for host ops (children subtracted), kernel time on the device
  double share = 0;        // of all device time, or of all host self time when nothing ran on a device
};

struct ProfileSummary {
  int steps = 0;
  double device_us_per_step = 0;  // sum of device events: how long the device was busy per step
  double host_us_per_step = 0;    // sum of host self times
  std::vector<OpTime> ops;        // device ops first when there are any, then by time, longest first
};

// Host ops nest (aten::linear calls aten::addmm): each one's self time is its duration less its
// direct children's on the same thread. Device events do not nest and count whole.
ProfileSummary summarise(const std::vector<ProfiledEvent>& events, int steps);

// Chrome trace-event JSON ({"traceEvents": [...]}), with the step count and a label in "mlspeed".
std::string trace_json(const std::vector<ProfiledEvent>& events, int steps, const std::string& label);
// name,where,calls_per_step,us_per_step,share
std::string ops_csv(const ProfileSummary& summary);
// The `top` longest ops as lines for the terminal, with the device's busy time against `step_ms`.
std::string format_top(const ProfileSummary& summary, int top, double step_ms);

}  // namespace mlspeed
