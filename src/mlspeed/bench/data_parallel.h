// Data-parallel training rows (`mlspeed run --ddp N`): a training configuration timed on N devices
// at once, one process per device, beside its one-device row from the same run.
//
//   the run   times every configuration on one device as usual; after each training row it starts
//             N ranks (parallel/rank_launcher.h) of `mlspeed run` narrowed to that configuration
//             (rank_arguments: as many timed steps as the one-device row took, since every step
//             all-reduces and every rank must take the same number), reads each rank's row back
//             from its standard output, and stores one row for the N devices (combine_ranks).
//   a rank    `mlspeed run` with the launcher's environment: joins the group (NCCL on its GPU, the
//             launcher having shown it that one GPU alone; Gloo on the CPU), probes the all-reduce
//             bandwidth, then times its configuration with the gradient reducer in the step
//             (RankRole), each rank on its own rows of the combined batch.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/bench/runner.h"
#include "mlspeed/parallel/allreduce_probe.h"
#include "mlspeed/parallel/gradient_reducer.h"
#include "mlspeed/parallel/rank_launcher.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

class Session;

// --- a rank ---------------------------------------------------------------------------------

class RankRole {
 public:
  // Joins the group of `place` for `device` and probes its all-reduce bandwidth. A rank that does
  // not come within `timeout` fails the collectives (c10::Error) rather than hanging them.
  RankRole(const parallel::RankPlace& place, const DeviceFacts& device, std::chrono::milliseconds timeout);
  // For Runner::on_open: a training session gets a reducer over its parameters (rank 0's weights
  // broadcast) and its rank's share of each batch; any other session is refused (c10::Error).
  void attach(Session& session);
  // The rank's group size and the probe's bus bandwidth, into one of its rows.
  void annotate(Result& row) const;

 private:
  parallel::RankPlace place_;
  at::TensorOptions on_device_;  // the group's device: the probe's buffer, the ranks' yes-or-no flag
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
  parallel::AllreduceBandwidth probe_;
  std::unique_ptr<parallel::GradientReducer> reducer_;
};

// --- the run ----------------------------------------------------------------------------------

// How the ranks of a configuration are timed: the run's own policy, seed and threads.
struct RankTiming {
  TimingPolicy policy;
  uint64_t seed = 0;
  std::optional<int64_t> threads;  // the run's --threads, shared out between CPU ranks
  std::chrono::milliseconds timeout{std::chrono::minutes(15)};
};

// The arguments of `mlspeed run` (after the program's name) with which each rank times the
// configuration of `single`, the one-device row: the same workload, size, dtype and shape, as many
// timed steps as `single` took, its rows as jsonl on standard output and none stored.
std::vector<std::string> rank_arguments(const Result& single, const RankTiming& timing, int world_size);

// The row of `world_size` devices from each rank's row: the slowest rank's samples, every rank's
// items together (each trained `batch` rows), the devices' peak together, the energy of every GPU
// together (on the CPU the ranks share the package, whose counter rank 0 read), and the scaling
// efficiency against `single`. A rank's failed row fails the whole with that rank's reason.
Result combine_ranks(const std::vector<Result>& ranks, const Result& single);

// Starts the ranks for `single`'s configuration on `world_size` devices of its kind (GPUs from
// single's index on: cuda:0 and cuda:1 for two from cuda:0) and returns their row; a launch that
// failed (a rank that died, a rendezvous that timed out, an interruption) is a row with status error
// and the reason, and no rank is left running. `program` is mlspeed's own path.
Result time_data_parallel(const Result& single, int world_size, const RankTiming& timing, const std::string& program,
                          const std::atomic<bool>* stop);

// Why `--ddp world_size` cannot run on `device` with these workloads and options, or empty: only
// training workloads, synthetic data, no --profile, and as many GPUs as asked.
std::string data_parallel_refusal(int world_size, const DeviceFacts& device, int visible_gpus,
                                  const std::vector<const Workload*>& workloads, bool reads_data, bool profiles);

}  // namespace mlspeed
