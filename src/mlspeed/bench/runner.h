// Runs a sweep: builds each model once, times every configuration, and turns every failure
// into a result row so the sweep goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/bench/plan.h"
#include "mlspeed/bench/progress.h"
#include "mlspeed/results/context.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

struct TimingPolicy {
  int warmup = 1;
  std::optional<int> iterations;  // exactly this many timed iterations, if set
  double min_time_s = 2.0;        // otherwise, time until this much has been measured...
  int min_iterations = 3;         // ...and at least this many iterations
  int max_iterations = 10000;
  bool graphs = true;  // CUDA devices replay each step from a graph where the step allows it
  bool energy = true;  // energy, clocks and throttling read over the timed iterations (device/energy.h)
  KernelSet kernels = KernelSet::mlspeed;  // run --kernels: mlspeed's own where it has them, or LibTorch's alone
  // After timing, this many more steps run under LibTorch's profiler, their trace and summary
  // written into profile_dir (run --profile); off when the folder is empty.
  std::string profile_dir;
  int profile_steps = 5;
};

class Runner {
 public:
  // `stop` is polled between iterations (set by Ctrl-C). `open` (seed, weights, data) opens
  // every model.
  Runner(TimingPolicy policy, OpenOptions open, const RunContext& context, Progress& progress,
         const std::atomic<bool>& stop);

  // Calls `on_result` with each completed row, in plan order. Returns false if stopped before
  // the end; the configuration in progress is then dropped, completed rows are not. An
  // InputFileError (a bad weights or data file) ends the sweep: it propagates, after the rows
  // already completed.
  bool run(const std::vector<Configuration>& plan, const std::function<void(Result&)>& on_result);

  // Receives what --profile found for each configuration, as lines for a person to read.
  void on_profile(std::function<void(const std::string& report)> report) { profile_report_ = std::move(report); }
  // Called with each session as soon as its model is built, before it is prepared (a data-parallel
  // rank attaches its gradient reducer); what it throws fails the configuration as a build would.
  void on_open(std::function<void(class Session&)> hook) { open_hook_ = std::move(hook); }
  // Times a data-parallel configuration (Placement::is_data_parallel) from the row of the same
  // configuration on one device, which the plan puts right before it: returns its row on
  // `world_size` devices (bench/data_parallel.h's time_data_parallel, with the ranks to start).
  // Without one, such configurations fail with the reason.
  using DataParallelTimer = std::function<Result(const Result& single, int world_size)>;
  void on_data_parallel(DataParallelTimer timer) { data_parallel_ = std::move(timer); }

 private:
  struct OpenModel;
  Result blank_result(const Configuration& config) const;
  // The refusal of a configuration whose memory estimate exceeds the device's free memory;
  // `model_open` when its model is already built (only the step's share is then needed).
  std::optional<std::string> too_large(const Configuration& config, bool model_open) const;
  // Builds the configuration's model unless `model` already holds it, then times it; a refusal or
  // failure becomes the row's status. Returns false if stopped part-way.
  bool build_and_measure(const Configuration& config, OpenModel& model, Result& result);
  // A data-parallel configuration's row: this process's model freed first (the ranks build
  // their own on the same devices), then timed by the DataParallelTimer from `single`, the row
  // of its one-device twin (plan.h's one_device_twin) right before it; null when there is none.
  Result data_parallel_row(const Configuration& config, OpenModel& model, const Result* single);
  // The precision flags in force, into the row.
  void record_flags(const Configuration& config, Result& result) const;
  // Times one configuration; returns false if stopped part-way.
  bool measure(const Configuration& config, class Session& session, Result& result);
  // Profiles policy_.profile_steps more steps and writes their trace and summary.
  void profile(const Configuration& config, class StepDriver& driver, const Result& result);
  // Whole-sweep estimate (progress.h's seconds_left): what is left of this configuration, plus
  // the remaining ones at the mean wall time of a configuration so far.
  double seconds_left(double current_left) const;

  TimingPolicy policy_;
  OpenOptions open_;
  const RunContext& context_;
  Progress& progress_;
  const std::atomic<bool>& stop_;
  std::function<void(const std::string&)> profile_report_;
  std::function<void(class Session&)> open_hook_;
  DataParallelTimer data_parallel_;
  int current_index_ = 0;
  int total_ = 0;
  std::chrono::steady_clock::time_point current_start_;
  double finished_seconds_ = 0;  // wall time of completed configurations
  int finished_count_ = 0;
};

}  // namespace mlspeed
