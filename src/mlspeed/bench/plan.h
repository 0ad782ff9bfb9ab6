// Expansion of a sweep request into its configurations: the Cartesian product of every list,
// as llama-bench does, ordered so that each model is built once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/device/device.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

struct SweepRequest {
  std::vector<const Workload*> workloads;
  std::vector<std::string> sizes;
  std::vector<DeviceFacts> devices;
  std::vector<Precision> precisions;
  std::vector<int64_t> batches;  // empty: each workload size's defaults
  std::vector<int64_t> seqs;     // empty: each workload size's defaults; ignored without a seq
  int repetitions = 1;
};

struct Configuration {
  const Workload* workload = nullptr;
  std::string size;
  DeviceFacts device;
  Precision precision = Precision::fp32;
  Shape shape;
  int repetition = 0;
};

// Order: workload, size, device, precision (one model each), then sequence length, batch and
// repetition. Throws UsageError when a sequence length exceeds a workload's maximum.
std::vector<Configuration> expand(const SweepRequest& request);

// Whether two configurations share one built model.
bool same_model(const Configuration& a, const Configuration& b);

}  // namespace mlspeed
