// The process group a data-parallel rank joins (parallel/rank_launcher.h starts the ranks): the
// launch's FileStore for the rendezvous, then NCCL for a CUDA device and Gloo for the CPU, each
// where this build has it (LibTorch's ProcessGroupNCCL header needs nccl.h, ProcessGroupGloo's
// needs Gloo's own headers: Debian's libgloo-dev).
#pragma once

#include <ATen/ATen.h>
#include <c10/core/DeviceType.h>
#include <c10/util/intrusive_ptr.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <chrono>
#include <string>

#include "mlspeed/parallel/rank_launcher.h"

namespace mlspeed::parallel {

// Why this build cannot make a group for `device` ("this mlspeed was built without Gloo: ..."),
// empty when it can.
std::string group_unavailable(c10::DeviceType device);

// The group of `rank` of `size` ranks meeting through `store`, for `device`: NCCL for CUDA (the
// rank's GPU is its cuda:0), Gloo for the CPU. A collective that waits longer than `timeout` for a
// rank fails with c10::Error instead of hanging. Throws std::runtime_error where group_unavailable
// says why.
c10::intrusive_ptr<c10d::ProcessGroup> make_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                                   c10::DeviceType device, std::chrono::milliseconds timeout);

// Joins the group of `place` for `device` (NCCL: the rank's GPU is its cuda:0, the launcher having
// given each rank one GPU). A rank that does not come within `timeout` fails the collectives with
// c10::Error instead of hanging. Throws std::runtime_error where group_unavailable says why.
c10::intrusive_ptr<c10d::ProcessGroup> join_group(const RankPlace& place, c10::DeviceType device,
                                                   std::chrono::milliseconds timeout);

// Whether every rank of `group` says yes (an all-reduce of the minimum, on a tensor of `options`:
// the group's device). Every rank must call it at the same point, as any collective.
bool every_rank_says(c10d::ProcessGroup& group, bool yes, const at::TensorOptions& options);

}  // namespace mlspeed::parallel
