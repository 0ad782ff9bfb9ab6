// What makes two rows the same configuration, so that `compare` and `report` set them side by side:
// workload, size, dtype, weight format, whose kernels ran, shape (batch, sequence, new tokens,
// depth) and how the step was timed (a CUDA graph replay or eager launches), and — when machines
// are compared — the kind of device (cpu, cuda, mps), not its index: cuda:0 here matches cuda:1 on
// a friend's machine.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

#include "mlspeed/results/result.h"

namespace mlspeed {

// Whether the device is part of the key. `kind`: across machines or runs (cuda:0 ~ cuda:3).
// `none`: across the devices of one run (`compare RUN --devices cpu,cuda:0`), where the device is
// what differs.
enum class DeviceMatch { kind, none };

struct MatchKey {
  std::string workload;
  std::string size;
  std::string dtype;  // fp32, tf32, fp16, bf16
  std::string weights;  // how the weights were stored: f32, bf16, q4_0, ... (results/result.h)
  std::string kernels;  // whose kernels ran: mlspeed or libtorch (core/kernel_set.h)
  int64_t batch = 0;
  int64_t seq_len = 0;
  int64_t new_tokens = 0;
  int64_t depth = 0;  // the KV cache's positions before the step
  int64_t world_size = 0;  // data-parallel devices (run --ddp N); 0: one device, not data-parallel
  // "graph" (a CUDA graph replay: GraphUse step or tokens) or "eager"; empty for DeviceMatch::none
  // and where a side holds published figures (compare_runs).
  std::string timing;
  std::string device;  // the device kind ("cpu", "cuda", "mps"), empty for DeviceMatch::none
  std::string shape;   // results/shape_label.h's label ("b4 s128", "tg128"); words only, not matched on

  auto tied() const {
    return std::tie(workload, size, dtype, weights, kernels, batch, seq_len, new_tokens, depth, world_size, timing,
                    device);
  }
  bool operator<(const MatchKey& other) const { return tied() < other.tied(); }
  bool operator==(const MatchKey& other) const { return tied() == other.tied(); }
};

// "cuda:0" -> "cuda", "cpu" -> "cpu".
std::string device_kind(const std::string& device);

MatchKey match_key(const Result& row, DeviceMatch device = DeviceMatch::kind);

// "bert-base-infer fp32 b4 s128 (cuda)", "llama2-7b-generate bf16 q4_0 tg128 graph (cuda)": the
// whole key in words (the weight format only where quantised), for tables and messages.
std::string describe(const MatchKey& key);

}  // namespace mlspeed
