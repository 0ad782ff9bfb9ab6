// Where one configuration runs, as one value: one device, or several devices of one kind that
// train data-parallel, one process each (bench/data_parallel.h), as the numerics are one value
// for how a model computes and stores its weights. Single-device code reads primary() and nothing
// else changes for it; converting from a DeviceFacts gives the one-device placement.
//
//   -d cuda:0            cuda:0
//   -d cuda:0 --ddp 2    cuda:0, then cuda:0-1 data-parallel for each training configuration
#pragma once

#include <string>

#include "mlspeed/device/device.h"

namespace mlspeed {

class Placement {
 public:
  Placement() = default;
  Placement(DeviceFacts device) : primary_(std::move(device)) {}  // NOLINT(google-explicit-constructor): see above
  // `world_size` devices from `first` (the CPU: `world_size` processes sharing it), one rank each.
  static Placement data_parallel(DeviceFacts first, int world_size);

  // The device a one-device configuration runs on; a data-parallel one's rank 0.
  const DeviceFacts& primary() const { return primary_; }
  bool is_data_parallel() const { return data_parallel_; }
  int world_size() const { return world_size_; }
  // "cuda:0", or "cuda:0 ddp x2": the device's id and, for data parallelism, the world size.
  std::string label() const;

  bool operator==(const Placement& other) const {
    return primary_.id == other.primary_.id && data_parallel_ == other.data_parallel_ &&
           world_size_ == other.world_size_;
  }
  bool operator!=(const Placement& other) const { return !(*this == other); }

 private:
  DeviceFacts primary_;
  bool data_parallel_ = false;
  int world_size_ = 1;
};

}  // namespace mlspeed
