#include "mlspeed/results/result.h"

#include <array>

namespace mlspeed {

namespace {
constexpr std::array<Status, 4> kStatuses = {Status::ok, Status::oom, Status::unsupported, Status::error};
}

std::string_view name(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::oom: return "oom";
    case Status::unsupported: return "unsupported";
    case Status::error: return "error";
  }
  return "?";
}

std::optional<Status> parse_status(std::string_view text) {
  for (Status s : kStatuses)
    if (name(s) == text) return s;
  return std::nullopt;
}

void derive_figures(Result& r) {
  r.summary = summarize(r.samples_ms);
  r.items_per_s.reset();
  r.tflops.reset();
  r.mfu.reset();
  if (r.status != Status::ok || r.summary.median <= 0) return;
  // Throughput from the median iteration: robust to the odd slow sample.
  r.items_per_s = r.items_per_step / (r.summary.median / 1e3);
  if (r.flops_per_item > 0) {
    r.tflops = r.flops_per_item * *r.items_per_s / 1e12;
    if (r.peak_tflops && *r.peak_tflops > 0) r.mfu = *r.tflops / *r.peak_tflops;
  }
}

}  // namespace mlspeed
