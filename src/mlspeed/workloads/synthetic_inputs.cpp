#include "mlspeed/workloads/synthetic_inputs.h"

#include <ATen/CPUGeneratorImpl.h>

namespace mlspeed {

void check_batch_and_seq(const std::string& workload, const Shape& shape, int64_t min_seq, int64_t max_seq) {
  TORCH_CHECK(shape.batch >= 1 && shape.seq >= min_seq && shape.seq <= max_seq, "[", workload,
              "] needs batch >= 1 and ", min_seq, " <= seq <= ", max_seq, ", got batch ", shape.batch, " seq ",
              shape.seq);
}

TokenBatch next_token_batch(int64_t vocab, const Shape& shape, uint64_t seed, const c10::Device& device) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor stream = at::randint(vocab, {shape.batch, shape.seq + 1}, generator, at::kLong);
  return {stream.narrow(1, 0, shape.seq).contiguous().to(device),
          stream.narrow(1, 1, shape.seq).contiguous().to(device)};
}

}  // namespace mlspeed
