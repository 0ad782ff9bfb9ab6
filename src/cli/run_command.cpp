// `mlspeed run`: parse -> expand -> run -> print and store, as llama-bench does.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "mlspeed/bench/data_parallel.h"
#include "mlspeed/bench/plan.h"
#include "mlspeed/bench/progress.h"
#include "mlspeed/bench/runner.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/live_line.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/session/run_session.h"
#include "mlspeed/workloads/gguf_generate.h"

namespace mlspeed::cli {
namespace {

// The GGUF files of --model, each a workload (read and checked here: a bad file stops the run
// before anything is timed or stored).
std::vector<std::unique_ptr<Workload>> model_workloads(const RunOptions& o) {
  std::vector<std::unique_ptr<Workload>> models;
  for (const std::string& path : o.models) models.push_back(make_gguf_generate(path));
  return models;
}

SweepRequest make_request(const RunOptions& o, const std::vector<DeviceFacts>& devices,
                          const std::vector<std::unique_ptr<Workload>>& models) {
  SweepRequest request;
  for (const auto& name : o.workloads) request.workloads.push_back(find_workload(name));
  for (const auto& model : models) request.workloads.push_back(model.get());
  request.sizes = o.sizes;
  request.devices = devices;
  request.precisions = o.dtypes;
  request.weight_formats = o.weight_formats;
  request.shapes = ShapeRequest{o.batches, o.seqs, o.new_tokens, o.depths};
  request.repetitions = static_cast<int>(o.repetitions);
  request.open = OpenOptions{o.seed, o.weights, o.data};
  // A rank of a --ddp run times its share on one device (it is never given --ddp itself).
  request.data_parallel = parallel::rank_place().world_size > 0 ? 0 : static_cast<int>(o.ddp);
  return request;
}

TimingPolicy make_policy(const RunOptions& o) {
  TimingPolicy policy;
  policy.warmup = static_cast<int>(o.warmup);
  if (o.iterations) policy.iterations = static_cast<int>(*o.iterations);
  policy.min_time_s = o.min_time;
  policy.graphs = o.graphs;
  policy.energy = o.energy;
  policy.kernels = o.kernels;
  policy.profile_dir = o.profile;
  return policy;
}

// Devices named by -d, with the CPU's peak measured only if the CPU is among them.
std::vector<DeviceFacts> chosen_devices(const RunOptions& o) {
  auto devices = select_devices(o.devices, discover_devices(/*measure_cpu_peak=*/false));
  for (auto& d : devices)
    if (d.kind == "cpu") measure_peak(d);
  return devices;
}

int visible_gpus() {
  const std::vector<DeviceFacts> all = discover_devices(/*measure_cpu_peak=*/false);
  return static_cast<int>(std::count_if(all.begin(), all.end(), [](const DeviceFacts& d) { return d.kind == "cuda"; }));
}

// --ddp N: refused before anything runs where it cannot be done.
void check_data_parallel(const RunOptions& o, const std::vector<DeviceFacts>& devices, const SweepRequest& request) {
  if (o.ddp == 0 || parallel::rank_place().world_size > 0) return;
  if (devices.size() != 1)
    throw UsageError("--ddp times data-parallel training on one kind of device: give one device with -d (cuda:0, cpu)");
  const std::string why = data_parallel_refusal(static_cast<int>(o.ddp), devices.front(), visible_gpus(),
                                                request.workloads, !o.data.empty(), !o.profile.empty());
  if (!why.empty()) throw UsageError(why);
}

// A --ddp run's data-parallel configurations: this program started again as each rank.
Runner::DataParallelTimer data_parallel_timer(const RunOptions& o, const std::atomic<bool>& stop) {
  return [&o, &stop](const Result& single, int world_size) {
    std::cerr << "mlspeed run: timing " << single.workload << " b" << single.batch << " data-parallel on " << world_size
              << (world_size == 1 ? " device (1 process)\n" : " devices (one process each)\n");
    const RankTiming timing{make_policy(o), o.seed, o.threads};
    return time_data_parallel(single, world_size, timing, std::filesystem::read_symlink("/proc/self/exe").string(),
                              &stop);
  };
}

}  // namespace

int run_command(const RunOptions& options, const std::string& command_line) {
  // Everything a user can get wrong is checked before anything runs or is stored.
  apply_threads(options.threads);  // before the CPU's peak is measured
  const std::vector<DeviceFacts> devices = chosen_devices(options);
  const std::vector<std::unique_ptr<Workload>> models = model_workloads(options);
  const SweepRequest request = make_request(options, devices, models);
  const std::vector<Configuration> plan = expand(request);
  check_data_parallel(options, devices, request);
  if (!options.profile.empty()) {
    const std::string why = make_directories(options.profile);
    if (!why.empty()) throw UsageError("--profile: cannot use '" + options.profile + "' as a folder: " + why);
  }
  RunContext context = capture_context(command_line, devices);
  if (std::any_of(devices.begin(), devices.end(), [](const DeviceFacts& d) { return d.kind == "cuda"; }))
    context.graphs = options.graphs;
  context.kernels = options.kernels;
  const SessionSetup setup{"mlspeed run", !options.no_db, options.db, "the current iteration",
                           static_cast<int64_t>(plan.size()), "configurations", options.label};
  const TableWidth width = options.wide ? TableWidth::wide : TableWidth::narrow;
  RunSession<Result> session(setup, context, make_printer(options.format, std::cout, width),
                             [](const Result& r) { return r.status == Status::error; });
  for (const auto& warning : measurement_warnings(context.host)) std::cerr << "warning: " << warning << "\n";
  session.begin();

  std::string profile_report;  // printed after its row, not across the live progress line
  const auto progress = make_progress(LiveLine::on_stderr().active());
  Runner runner(make_policy(options), request.open, context, *progress, session.stop_flag());
  runner.on_profile([&](const std::string& report) { profile_report = report; });
  // A rank of a --ddp run (started by the run above it): joins its group and trains its share.
  std::unique_ptr<RankRole> rank;
  if (const parallel::RankPlace place = parallel::rank_place(); place.world_size > 0) {
    parallel::die_with_launcher();
    rank = std::make_unique<RankRole>(place, devices.front(), std::chrono::minutes(2));
    runner.on_open([&](Session& s) { rank->attach(s); });
  }
  runner.on_data_parallel(data_parallel_timer(options, session.stop_flag()));
  try {
    const bool completed = runner.run(plan, [&](Result& r) {
      if (rank) rank->annotate(r);
      session.add(r);
      std::cerr << profile_report;
      profile_report.clear();
    });
    return session.finish(completed ? RunEnd::complete : RunEnd::interrupted);
  } catch (const InputFileError& e) {
    // A bad --weights or --data file: every configuration would fail the same way.
    std::cerr << "mlspeed run: " << e.what() << "\n";
    return session.finish(RunEnd::stopped);
  }
}

}  // namespace mlspeed::cli
