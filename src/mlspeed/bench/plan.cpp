#include "mlspeed/bench/plan.h"

#include "mlspeed/core/errors.h"

namespace mlspeed {

std::vector<Configuration> expand(const SweepRequest& request) {
  std::vector<Configuration> plan;
  for (const Workload* workload : request.workloads) {
    for (const auto& size_name : request.sizes) {
      const WorkloadSize* size = find_size(*workload, size_name);
      if (!size) throw UsageError("--sizes: " + workload->name() + " has no size '" + size_name + "'");
      const bool has_seq = !size->seqs.empty();
      const auto& seqs = !has_seq ? std::vector<int64_t>{0} : request.seqs.empty() ? size->seqs : request.seqs;
      const auto& batches = request.batches.empty() ? size->batches : request.batches;
      for (int64_t seq : seqs)
        if (has_seq && seq > size->max_seq)
          throw UsageError("--seq: " + std::to_string(seq) + " exceeds the longest sequence " +
                           workload->name() + " (" + size_name + ") takes, " + std::to_string(size->max_seq));
      for (const auto& device : request.devices)
        for (Precision precision : request.precisions)
          for (int64_t seq : seqs)
            for (int64_t batch : batches)
              for (int rep = 0; rep < request.repetitions; ++rep)
                plan.push_back({workload, size_name, device, precision, Shape{batch, seq}, rep});
    }
  }
  return plan;
}

bool same_model(const Configuration& a, const Configuration& b) {
  return a.workload == b.workload && a.size == b.size && a.device.id == b.device.id &&
         a.precision == b.precision;
}

}  // namespace mlspeed
