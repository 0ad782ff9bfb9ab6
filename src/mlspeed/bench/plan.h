// Expansion of a sweep request into its configurations: the Cartesian product of every list,
// as llama-bench does, ordered so that each model is built once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlspeed/bench/placement.h"
#include "mlspeed/core/numerics.h"
#include "mlspeed/device/device.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

struct SweepRequest {
  std::vector<const Workload*> workloads;
  std::vector<std::string> sizes;
  std::vector<DeviceFacts> devices;
  std::vector<Precision> precisions;
  // --weight-format: storage formats for the workloads that take them (Workload::weight_formats);
  // empty: each model in its own storage.
  std::vector<ModelFormat> weight_formats;
  ShapeRequest shapes;  // empty lists: each workload size's defaults
  int repetitions = 1;
  OpenOptions open;  // seed, weights, data: the same for every configuration
  // --ddp N: each training configuration again on N devices (data-parallel), right after it on
  // one; 0: one device only.
  int data_parallel = 0;
};

struct Configuration {
  const Workload* workload = nullptr;
  std::string size;
  Placement placement;
  Numerics numerics;
  Shape shape;
  int repetition = 0;
};

// Order: workload, size, device, precision, weight format (one model each), then the workload's shapes (see
// Workload::shapes) and repetition, each on one device and then, with data_parallel, on N. A size a workload does not have is skipped for it. Throws
// UsageError for a size no chosen workload has, a shape longer than a workload takes, --weights
// with more than one workload, --data for a workload that reads no data set, --weight-format
// when no chosen workload takes one, or a --depth above 0 when none takes a depth.
std::vector<Configuration> expand(const SweepRequest& request);

// Whether two configurations share one built model (a data-parallel one builds none here: its
// ranks build their own).
bool same_model(const Configuration& a, const Configuration& b);

// Whether `single` is the data-parallel configuration `parallel` on its primary device alone: the
// configuration the plan puts right before it, whose row it is timed from.
bool one_device_twin(const Configuration& single, const Configuration& parallel);

}  // namespace mlspeed
