// Inputs the workloads share: the shape check of sequence models and nanoGPT's next-token batch.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "mlspeed/workloads/workload.h"

namespace mlspeed {

// Refuses (c10::Error, naming the workload) a shape outside batch >= 1, min_seq <= seq <= max_seq.
void check_batch_and_seq(const std::string& workload, const Shape& shape, int64_t min_seq, int64_t max_seq);

// Token ids uniform in [0, vocab), drawn on the CPU from the seed as a stream of seq + 1 tokens per
// row; the targets are the inputs shifted by one, as nanoGPT's get_batch. Moved to `device`.
struct TokenBatch {
  at::Tensor inputs, targets;  // (batch, seq) int64
};
TokenBatch next_token_batch(int64_t vocab, const Shape& shape, uint64_t seed, const c10::Device& device);

}  // namespace mlspeed
