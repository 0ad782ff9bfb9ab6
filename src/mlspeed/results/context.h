// The context of a run: host, build and every device timed, plus the precision flags. Printed
// before results, stored with the run, and copied into every row.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"

namespace mlspeed {

struct RunContext {
  std::string started_at;  // ISO 8601 UTC
  std::string command;     // the command line as typed
  HostFacts host;
  std::vector<DeviceFacts> devices;
  // Process-wide flags as found at start (rows record what was in force for them).
  bool tf32_default = false;
  bool deterministic = false;
  bool cudnn_benchmark = false;
  // cuBLAS may sum float16 / bfloat16 matrix products in their own precision (split-K); bf16
  // unknown where the LibTorch has no such flag.
  bool fp16_reduced_reduction = false;
  std::optional<bool> bf16_reduced_reduction;
  // `mlspeed run --graphs`: whether CUDA devices replay each step from a CUDA graph (empty for
  // commands that time nothing).
  std::optional<bool> graphs;
  // `mlspeed run --kernels`: whose kernels every row ran (empty for commands that time nothing).
  std::optional<KernelSet> kernels;
};

// Reads the process-wide precision flags above as they are now.
void capture_precision_flags(RunContext& context);

void to_json(nlohmann::json& j, const HostFacts& host);
void from_json(const nlohmann::json& j, HostFacts& host);
void to_json(nlohmann::json& j, const DeviceFacts& device);
void from_json(const nlohmann::json& j, DeviceFacts& device);
void to_json(nlohmann::json& j, const RunContext& context);
void from_json(const nlohmann::json& j, RunContext& context);

// Human-readable block (markdown-friendly lines) describing host, build and devices.
std::string describe_context(const RunContext& context);

}  // namespace mlspeed
