// What the catalogue's workloads share: their constant facts as data instead of getters, and
// their sizes built from a table of default sweeps plus what each size's model says of itself.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/workloads/workload.h"

namespace mlspeed {

// A workload's constant facts.
struct WorkloadFacts {
  WorkloadFacts(std::string name, std::string description, Job job, std::string item_unit,
                std::string data_format = {}, int64_t steps_per_job = 1)
      : name(std::move(name)),
        description(std::move(description)),
        job(job),
        item_unit(std::move(item_unit)),
        data_format(std::move(data_format)),
        steps_per_job(steps_per_job) {}

  std::string name;
  std::string description;
  Job job;
  std::string item_unit;    // what throughput counts: "tokens", "samples", "images", "steps"
  std::string data_format;  // the data set --data takes, in words; empty: none
  int64_t steps_per_job;    // steps of the job a user waits for (Stable Diffusion: 50 denoising steps)
};

// In SizeDefaults::seqs: the model's max_seq (the workload runs at its model's full context).
inline constexpr int64_t kModelMaxSeq = -1;

// One row of a workload's size table: the size's name and its default sweep.
struct SizeDefaults {
  std::string name;
  std::vector<int64_t> batches;
  std::vector<int64_t> seqs = {};        // empty: no sequence length
  std::vector<int64_t> new_tokens = {};  // empty: does not generate
};

// What a size's model says of itself, for `mlspeed workloads` and every row.
struct ModelFacts {
  std::string summary;     // "6 layers, 6 heads, 384 wide, vocab 65, block 256"
  int64_t parameters = 0;  // as the public reference counts them
  int64_t max_seq = 0;     // the longest seq + new_tokens the model takes (0: no limit)
};

class WorkloadBase : public Workload {
 public:
  std::string name() const final { return facts_.name; }
  std::string description() const final { return facts_.description; }
  Job job() const final { return facts_.job; }
  std::string item_unit() const final { return facts_.item_unit; }
  const std::vector<WorkloadSize>& sizes() const final { return sizes_; }
  std::string data_format() const final { return facts_.data_format; }
  int64_t steps_per_job() const final { return facts_.steps_per_job; }

 protected:
  // The sizes in the table's order, each completed by `model(size name)`.
  WorkloadBase(WorkloadFacts facts, const std::vector<SizeDefaults>& table,
               const std::function<ModelFacts(const std::string& size)>& model);

 private:
  WorkloadFacts facts_;
  std::vector<WorkloadSize> sizes_;
};

// llama-bench's tests as shapes: a pp row per prompt length, then a tg row per generation
// length, each at every depth (request.depths, or 0) and batch; a length of 0 is no test.
std::vector<Shape> llama_bench_shapes(const WorkloadSize& size, const ShapeRequest& request);

// The error every workload gives for a size it does not have: std::invalid_argument.
[[noreturn]] void throw_unknown_size(const std::string& workload, const std::string& size);

}  // namespace mlspeed
