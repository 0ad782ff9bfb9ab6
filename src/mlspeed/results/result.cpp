#include "mlspeed/results/result.h"

#include <array>

namespace mlspeed {

namespace {
constexpr std::array<Status, 5> kStatuses = {Status::ok, Status::oom, Status::too_large, Status::unsupported,
                                             Status::error};
}

std::string_view name(Status status) {
  switch (status) {
    case Status::ok: return "ok";
    case Status::oom: return "oom";
    case Status::too_large: return "too-large";
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
  r.first_token_ms.reset();
  r.ms_per_token.reset();
  r.job_s.reset();
  if (r.status != Status::ok || r.summary.median <= 0) return;
  if (r.steps_per_job > 1) r.job_s = r.summary.median * double(r.steps_per_job) / 1e3;
  if (!r.first_token_samples_ms.empty()) {
    // Medians of each part: time to the first token, then the rest spread over the other tokens.
    const double first = summarize(r.first_token_samples_ms).median;
    r.first_token_ms = first;
    if (r.new_tokens > 1) r.ms_per_token = (r.summary.median - first) / double(r.new_tokens - 1);
  }
  // Throughput from the median iteration: robust to the odd slow sample.
  r.items_per_s = r.items_per_step / (r.summary.median / 1e3);
  if (r.flops_per_item > 0) {
    r.tflops = r.flops_per_item * *r.items_per_s / 1e12;
    if (r.peak_tflops && *r.peak_tflops > 0) r.mfu = *r.tflops / *r.peak_tflops;
  }
}

}  // namespace mlspeed
