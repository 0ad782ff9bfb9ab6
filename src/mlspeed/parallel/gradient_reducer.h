// Data-parallel gradients, as PyTorch's DDP Reducer computes them, over any c10d process group
// (Gloo on the CPU, NCCL on CUDA): every rank runs the same model on its own share of the batch;
// the reducer's hooks copy each gradient into its bucket (gradient_buckets.h) as the backward pass
// produces it, and start an asynchronous all-reduce of a bucket (the sum divided by the world size)
// once all of its gradients are in, buckets in the same order on every rank (a collective must be
// called in one order everywhere), so that communication overlaps the rest of the backward pass.
// finish() waits for them and writes the averaged gradients into each parameter's .grad: the
// gradient of the mean loss over the whole batch when every rank's share has the same size.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/intrusive_ptr.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include <mutex>
#include <vector>

#include "mlspeed/parallel/gradient_buckets.h"

namespace mlspeed::parallel {

class GradientReducer {
 public:
  // `params` the model's parameters in registration order, the same on every rank.
  GradientReducer(std::vector<at::Tensor> params, c10::intrusive_ptr<c10d::ProcessGroup> group,
                  int64_t cap_bytes = kDefaultBucketBytes);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Rank 0's parameters on every rank (once, before training).
  void broadcast_parameters();
  // After backward(): starts the buckets no gradient reached (a parameter unused this step
  // contributes zeros), waits for every all-reduce and writes the averages into .grad.
  void finish();
  const std::vector<GradientBucket>& buckets() const { return buckets_; }

 private:
  using WorkPtr = decltype(std::declval<c10d::ProcessGroup&>().allreduce(std::declval<std::vector<at::Tensor>&>()));
  struct Slot {
    size_t bucket = 0;
    size_t position = 0;  // in the bucket's parameter list
    int64_t offset = 0;   // elements into the bucket's buffer
  };
  void gradient_ready(size_t param, const at::Tensor& grad);
  void launch_ready_buckets();  // with mutex_ held

  std::vector<at::Tensor> params_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  std::vector<GradientBucket> buckets_;
  std::vector<Slot> slots_;                 // by parameter
  std::vector<at::Tensor> buffers_;         // by bucket: the flat gradients
  std::vector<std::vector<bool>> filled_;   // by bucket, by position in it
  std::vector<size_t> missing_;             // by bucket: gradients not yet in
  std::vector<WorkPtr> works_;              // by bucket, once started
  size_t next_bucket_ = 0;                  // the first bucket not yet started
  std::vector<unsigned> hooks_;
  std::mutex mutex_;
};

}  // namespace mlspeed::parallel
