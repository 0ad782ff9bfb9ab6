// A workload is a model plus the job timed on it (a training step, an inference forward). The
// catalogue lists them; the runner opens a Session per (workload, size, device, precision) and
// times Session::step() for each shape.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/workloads/job.h"

namespace c10 {
struct Device;
}

namespace mlspeed {

struct Shape {
  int64_t batch = 1;
  int64_t seq = 0;  // 0 when the workload has no sequence length
};

struct WorkloadSize {
  std::string name;      // "tiny", "full"
  std::string summary;   // "6 layers, 6 heads, 384 wide, vocab 65, block 256"
  int64_t parameters = 0;        // counted as the public reference counts them (see each workload)
  std::vector<int64_t> batches;  // default sweep
  std::vector<int64_t> seqs;     // default sweep; empty when the workload has no sequence length
  int64_t max_seq = 0;
};

// A model built on a device with its optimizer state, ready to be timed.
class Session {
 public:
  virtual ~Session() = default;
  // Makes synthetic inputs for `shape` from a fixed seed; called before each configuration.
  virtual void prepare(const Shape& shape) = 0;
  // One timed iteration: a whole training step, or one inference forward. It does not
  // synchronise; the timer does.
  virtual void step() = 0;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  virtual Job job() const = 0;
  virtual std::string item_unit() const = 0;  // what throughput counts: "tokens" or "samples"
  virtual const std::vector<WorkloadSize>& sizes() const = 0;
  virtual double items_per_step(const Shape& shape) const = 0;
  // Model FLOPs per item, counted analytically (documented beside each model).
  virtual double flops_per_item(const std::string& size, const Shape& shape) const = 0;
  // Builds the model on the CPU from `seed` (identical weights on every device), then moves it.
  virtual std::unique_ptr<Session> open(const std::string& size, const c10::Device& device,
                                        Precision precision, uint64_t seed) const = 0;
};

// The catalogue, in the order `mlspeed workloads` lists it.
const std::vector<const Workload*>& workload_catalogue();
const Workload* find_workload(std::string_view name);
const WorkloadSize* find_size(const Workload& workload, std::string_view size);
std::vector<std::string> workload_names();

}  // namespace mlspeed
