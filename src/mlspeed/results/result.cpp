#include "mlspeed/results/result.h"

#include <algorithm>
#include <array>

#include "mlspeed/core/noise.h"
#include "mlspeed/core/text.h"

namespace mlspeed {

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
  for (Status s : kAllStatuses)
    if (name(s) == text) return s;
  return std::nullopt;
}

std::string_view name(GraphUse use) {
  switch (use) {
    case GraphUse::off: return "off";
    case GraphUse::step: return "step";
    case GraphUse::tokens: return "tokens";
    case GraphUse::eager: return "eager";
  }
  return "?";
}

std::optional<GraphUse> parse_graph_use(std::string_view text) {
  for (GraphUse u : kAllGraphUses)
    if (name(u) == text) return u;
  return std::nullopt;
}

namespace {

std::string join_flags(const std::string& a, const std::string& b) {
  return a.empty() ? b : b.empty() ? a : a + ", " + b;
}

}  // namespace

std::string clock_flag(const Result& r) {
  std::string flag;
  if (r.clock_min_mhz && r.clock_median_mhz && *r.clock_min_mhz < 0.9 * *r.clock_median_mhz)
    flag = printf_string("clock fell %.0f%% below its median", 100 * (1 - *r.clock_min_mhz / *r.clock_median_mhz));
  if (!r.throttle.empty()) flag = join_flags(flag, "throttled: " + r.throttle);
  return flag;
}

ModelFormat stored_weights(const Result& r) {
  return r.weight_format ? *r.weight_format : weight_format(Numerics(r.precision), r.job);
}

void derive_figures(Result& r) {
  r.summary = summarize(r.samples_ms);
  r.items_per_s.reset();
  r.tflops.reset();
  r.mfu.reset();
  r.first_token_ms.reset();
  r.ms_per_token.reset();
  r.job_s.reset();
  r.gbps.reset();
  r.mbu.reset();
  r.joules_per_item.reset();
  r.items_per_joule.reset();
  r.noise.clear();
  if (r.status != Status::ok || r.summary.median <= 0) return;
  r.noise = join_flags(assess_noise(r.samples_ms).flag(), clock_flag(r));
  if (r.joules_per_step && r.items_per_step > 0) {
    r.joules_per_item = *r.joules_per_step / r.items_per_step;
    if (*r.joules_per_item > 0) r.items_per_joule = 1 / *r.joules_per_item;
  }
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
  if (r.bytes_per_item > 0) {
    // Decoding: the steady time per token, without the prompt pass, where the row has it (a decode
    // step makes one token for each of the batch's sequences).
    const double seconds_per_item =
        r.ms_per_token ? *r.ms_per_token / 1e3 / double(std::max<int64_t>(r.batch, 1)) : 1.0 / *r.items_per_s;
    if (seconds_per_item > 0) r.gbps = r.bytes_per_item / seconds_per_item / 1e9;
    if (r.gbps && r.peak_gbps && *r.peak_gbps > 0) r.mbu = *r.gbps / *r.peak_gbps;
  }
}

}  // namespace mlspeed
