// The all-reduce bandwidth of a process group, as nccl-tests reports it: a buffer of `bytes`
// all-reduced `iterations` times after `warmup` runs, timed on every rank and the slowest rank's
// time taken; algbw = bytes / time per all-reduce, and busbw = algbw * 2 (n - 1) / n, the traffic
// each link carries in a ring all-reduce of n ranks (nccl-tests' doc/PERFORMANCE.md), so that
// busbw compares with the hardware's link bandwidth whatever n is.
#pragma once

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <cstdint>

namespace mlspeed::parallel {

struct AllreduceBandwidth {
  int64_t bytes = 0;
  int world_size = 0;
  int iterations = 0;
  double seconds = 0;  // per all-reduce, the slowest rank's
  double algbw_gb_s = 0;
  double busbw_gb_s = 0;
};

// busbw from algbw for n ranks: 0 for one rank (nothing crosses a link).
double bus_bandwidth(double algbw, int world_size);

// Every rank calls it with the same arguments; `options` the buffer's device (float32). Each
// timed region ends with a read of the buffer, which waits for the device.
AllreduceBandwidth probe_allreduce(c10d::ProcessGroup& group, int64_t bytes, const at::TensorOptions& options,
                                   int iterations = 20, int warmup = 5);

}  // namespace mlspeed::parallel
