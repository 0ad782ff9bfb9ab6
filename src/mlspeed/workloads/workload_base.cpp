#include "mlspeed/workloads/workload_base.h"

#include <stdexcept>
#include <utility>

namespace mlspeed {

WorkloadBase::WorkloadBase(WorkloadFacts facts, const std::vector<SizeDefaults>& table,
                           const std::function<ModelFacts(const std::string& size)>& model)
    : facts_(std::move(facts)) {
  for (const SizeDefaults& row : table) {
    ModelFacts m = model(row.name);
    WorkloadSize s;
    s.name = row.name;
    s.summary = std::move(m.summary);
    s.parameters = m.parameters;
    s.batches = row.batches;
    for (int64_t seq : row.seqs) s.seqs.push_back(seq == kModelMaxSeq ? m.max_seq : seq);
    s.new_tokens = row.new_tokens;
    s.max_seq = m.max_seq;
    sizes_.push_back(std::move(s));
  }
}

std::vector<Shape> llama_bench_shapes(const WorkloadSize& size, const ShapeRequest& request) {
  static const std::vector<int64_t> kEmptyCache{0};
  const auto& batches = requested_or(request.batches, size.batches);
  const auto& depths = requested_or(request.depths, kEmptyCache);
  std::vector<Shape> shapes;
  // A prompt length or a generation length of 0 is no such test (llama-bench's -p 0, -n 0).
  for (int64_t p : requested_or(request.seqs, size.seqs)) {
    if (p == 0) continue;
    for (int64_t depth : depths)
      for (int64_t batch : batches) shapes.push_back(Shape{batch, p, 0, depth});
  }
  for (int64_t n : requested_or(request.new_tokens, size.new_tokens)) {
    if (n == 0) continue;
    for (int64_t depth : depths)
      for (int64_t batch : batches) shapes.push_back(Shape{batch, 0, n, depth});
  }
  return shapes;
}

void throw_unknown_size(const std::string& workload, const std::string& size) {
  throw std::invalid_argument("[" + workload + "] unknown size '" + size + "'");
}

}  // namespace mlspeed
