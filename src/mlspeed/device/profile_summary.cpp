#include "mlspeed/device/profile_summary.h"

#include <algorithm>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

struct Total {
  int64_t calls = 0;
  double us = 0;
};

// Self time of each host event: its duration less that of its direct children. Events of one
// thread are ordered by start (longest first on a tie, so a parent precedes its child); a stack
// of open events finds each one's parent.
std::vector<double> host_self_times(const std::vector<ProfiledEvent>& events) {
  std::vector<double> self(events.size(), 0);
  std::map<uint64_t, std::vector<size_t>> by_thread;
  for (size_t i = 0; i < events.size(); ++i)
    if (!events[i].on_device) by_thread[events[i].thread].push_back(i);
  for (auto& [thread, order] : by_thread) {
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (events[a].start_us != events[b].start_us) return events[a].start_us < events[b].start_us;
      return events[a].duration_us > events[b].duration_us;
    });
    std::vector<size_t> open;
    for (size_t i : order) {
      const ProfiledEvent& e = events[i];
      while (!open.empty() && events[open.back()].start_us + events[open.back()].duration_us <= e.start_us)
        open.pop_back();
      self[i] = e.duration_us;
      if (!open.empty()) self[open.back()] -= e.duration_us;
      open.push_back(i);
    }
  }
  for (double& s : self) s = std::max(s, 0.0);  // clock rounding can leave a parent a hair short
  return self;
}

}  // namespace

ProfileSummary summarise(const std::vector<ProfiledEvent>& events, int steps) {
  ProfileSummary summary;
  summary.steps = std::max(steps, 1);
  const std::vector<double> self = host_self_times(events);
  std::map<std::pair<bool, std::string>, Total> totals;
  double device_us = 0, host_us = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const ProfiledEvent& e = events[i];
    const double us = e.on_device ? e.duration_us : self[i];
    Total& t = totals[{e.on_device, e.name}];
    ++t.calls;
    t.us += us;
    (e.on_device ? device_us : host_us) += us;
  }
  summary.device_us_per_step = device_us / summary.steps;
  summary.host_us_per_step = host_us / summary.steps;
  const bool device_ran = device_us > 0;
  for (const auto& [key, t] : totals) {
    OpTime op;
    op.on_device = key.first;
    op.name = key.second;
    op.calls_per_step = static_cast<double>(t.calls) / summary.steps;
    op.us_per_step = t.us / summary.steps;
    const double whole = device_ran ? device_us : host_us;
    op.share = op.on_device == device_ran && whole > 0 ? t.us / whole : 0;
    summary.ops.push_back(op);
  }
  std::sort(summary.ops.begin(), summary.ops.end(), [](const OpTime& a, const OpTime& b) {
    if (a.on_device != b.on_device) return a.on_device;
    return a.us_per_step > b.us_per_step;
  });
  return summary;
}

std::string trace_json(const std::vector<ProfiledEvent>& events, int steps, const std::string& label) {
  nlohmann::json trace_events = nlohmann::json::array();
  for (const ProfiledEvent& e : events) {
    trace_events.push_back({{"name", e.name},
                            {"cat", e.on_device ? "kernel" : "cpu_op"},
                            {"ph", "X"},
                            {"ts", e.start_us},
                            {"dur", e.duration_us},
                            {"pid", e.on_device ? "device" : "host"},
                            {"tid", e.thread}});
  }
  nlohmann::json trace = {{"traceEvents", trace_events}, {"mlspeed", {{"steps", steps}, {"label", label}}}};
  return trace.dump() + "\n";
}

std::string ops_csv(const ProfileSummary& summary) {
  std::string out = "name,where,calls_per_step,us_per_step,share\n";
  for (const OpTime& op : summary.ops)
    out += csv_cell(op.name) + (op.on_device ? ",device," : ",host,") +
           printf_string("%.3g,%.4g,%.4f\n", op.calls_per_step, op.us_per_step, op.share);
  return out;
}

std::string format_top(const ProfileSummary& summary, int top, double step_ms) {
  const bool device_ran = summary.device_us_per_step > 0;
  std::string out;
  if (device_ran)
    out += printf_string("  device busy %.3f ms of a %.3f ms step (%.0f%%); host ops %.3f ms\n",
                         summary.device_us_per_step / 1e3, step_ms,
                         step_ms > 0 ? 100 * summary.device_us_per_step / 1e3 / step_ms : 0.0,
                         summary.host_us_per_step / 1e3);
  else
    out += printf_string("  host ops %.3f ms of a %.3f ms step (self time)\n", summary.host_us_per_step / 1e3,
                         step_ms);
  int shown = 0;
  for (const OpTime& op : summary.ops) {
    if (op.on_device != device_ran || shown++ >= top) continue;
    std::string name = op.name.size() > 90 ? op.name.substr(0, 87) + "..." : op.name;
    out += printf_string("  %5.1f%% %10.1f us %6.3g calls  %s\n", 100 * op.share, op.us_per_step,
                         op.calls_per_step, name.c_str());
  }
  return out;
}

}  // namespace mlspeed
