#include "mlspeed/bench/plan.h"

#include "mlspeed/core/errors.h"

namespace mlspeed {
namespace {

void check_files(const SweepRequest& request) {
  if (!request.open.weights.empty() && request.workloads.size() != 1)
    throw UsageError("--weights: a weights file fits one model; choose one workload with -w");
  if (request.open.data.empty()) return;
  for (const Workload* workload : request.workloads)
    if (workload->data_format().empty())
      throw UsageError("--data: " + workload->name() +
                       " reads no data set; choose workloads that do (see `mlspeed workloads`)");
}

}  // namespace

std::vector<Configuration> expand(const SweepRequest& request) {
  check_files(request);
  std::vector<Configuration> plan;
  for (const auto& size_name : request.sizes) {
    bool any = false;
    for (const Workload* workload : request.workloads) any = any || find_size(*workload, size_name);
    if (!any)
      throw UsageError("--sizes: none of the chosen workloads has a size '" + size_name +
                       "' (see `mlspeed workloads`)");
  }
  for (const Workload* workload : request.workloads) {
    for (const auto& size_name : request.sizes) {
      const WorkloadSize* size = find_size(*workload, size_name);
      if (!size) continue;
      const std::vector<Shape> shapes = workload->shapes(*size, request.shapes);
      for (const Shape& shape : shapes) {
        // Each at most kMaxShapeValue (2^24): the sum cannot overflow.
        const int64_t length = shape.seq + shape.new_tokens;
        if (size->max_seq > 0 && length > size->max_seq)
          throw UsageError((shape.new_tokens > 0 ? "--seq + --new-tokens: " : "--seq: ") + std::to_string(length) +
                           " exceeds the longest sequence " + workload->name() + " (" + size_name + ") takes, " +
                           std::to_string(size->max_seq));
      }
      for (const auto& device : request.devices)
        for (Precision precision : request.precisions)
          for (const Shape& shape : shapes)
            for (int rep = 0; rep < request.repetitions; ++rep)
              plan.push_back({workload, size_name, device, precision, shape, rep});
    }
  }
  return plan;
}

bool same_model(const Configuration& a, const Configuration& b) {
  return a.workload == b.workload && a.size == b.size && a.device.id == b.device.id &&
         a.precision == b.precision;
}

}  // namespace mlspeed
