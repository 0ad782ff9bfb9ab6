// Which gradients are all-reduced together in data-parallel training, as PyTorch's DDP Reducer
// groups them: parameters in reverse registration order (about the order the backward pass
// finishes their gradients, so that the first bucket can start while the rest is computed), packed
// into buckets of at most `cap_bytes` (DDP's default 25 MiB) of one dtype and device each; a
// parameter larger than the cap gets a bucket of its own.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace mlspeed::parallel {

constexpr int64_t kDefaultBucketBytes = int64_t{25} << 20;

struct GradientBucket {
  std::vector<size_t> params;  // indices into the parameter list, in the order they are packed
  int64_t bytes = 0;
};

std::vector<GradientBucket> assign_buckets(const std::vector<at::Tensor>& params,
                                           int64_t cap_bytes = kDefaultBucketBytes);

}  // namespace mlspeed::parallel
