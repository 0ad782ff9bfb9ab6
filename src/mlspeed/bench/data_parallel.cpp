#include "mlspeed/bench/data_parallel.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "mlspeed/core/text.h"
#include "mlspeed/parallel/process_groups.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/workloads/training_session.h"

namespace mlspeed {
namespace {

// The probe's buffer: NCCL's bandwidth levels off from tens of MiB; Gloo on a CPU is slow enough
// that a few MiB tell its rate.
int64_t probe_bytes(c10::DeviceType device) { return device == c10::kCUDA ? int64_t{64} << 20 : int64_t{4} << 20; }

// The GPUs each rank sees alone: the visible list this process was given, else the indices.
std::vector<std::string> rank_gpus(int first, int world_size) {
  std::vector<std::string> visible;
  if (const char* list = std::getenv("CUDA_VISIBLE_DEVICES"); list && *list) {
    std::string item;
    for (std::istringstream in(list); std::getline(in, item, ',');) visible.push_back(item);
  }
  std::vector<std::string> out;
  for (int r = 0; r < world_size; ++r) {
    const size_t i = static_cast<size_t>(first + r);
    out.push_back(i < visible.size() ? visible[i] : std::to_string(i));
  }
  return out;
}

// A copy of `single` for N devices that failed with `why`.
Result failed_row(const Result& single, int world_size, const std::string& why) {
  Result row = single;
  row.data_parallel = true;
  row.world_size = world_size;
  row.status = Status::error;
  row.message = why;
  row.samples_ms.clear();
  row.joules_per_step.reset();
  row.watts.reset();
  row.scaling_efficiency.reset();
  derive_figures(row);
  return row;
}

}  // namespace

RankRole::RankRole(const parallel::RankPlace& place, const DeviceFacts& device, std::chrono::milliseconds timeout)
    : place_(place), on_device_(at::TensorOptions().device(torch_device(device))) {
  const c10::DeviceType type = on_device_.device().type();
  group_ = parallel::join_group(place, type, timeout);
  probe_ = parallel::probe_allreduce(*group_, probe_bytes(type), on_device_);
}

void RankRole::attach(Session& session) {
  auto* training = dynamic_cast<TrainingSessionBase*>(&session);
  TORCH_CHECK(training, "data parallelism trains: this workload's step is not a training step");
  reducer_.reset();
  reducer_ = std::make_unique<parallel::GradientReducer>(training->trained_parameters(), group_);
  reducer_->broadcast_parameters();
  training->set_data_parallel(
      place_.rank, place_.world_size, [this] { reducer_->finish(); },
      [this](bool recorded) { return parallel::every_rank_says(*group_, recorded, on_device_); });
}

void RankRole::annotate(Result& row) const {
  row.data_parallel = true;
  row.world_size = place_.world_size;
  row.allreduce_busbw_gb_s = probe_.busbw_gb_s;
}

std::vector<std::string> rank_arguments(const Result& single, const RankTiming& timing, int world_size) {
  const TimingPolicy& p = timing.policy;
  std::vector<std::string> args = {"run",
                                   "-w", single.workload,
                                   "--sizes", single.size,
                                   "-d", single.device_facts.kind == "cuda" ? "cuda:0" : single.device,
                                   "-t", std::string(name(single.precision)),
                                   "-b", std::to_string(single.batch),
                                   "--warmup", std::to_string(p.warmup),
                                   "-n", std::to_string(std::max<size_t>(single.samples_ms.size(), 1)),
                                   "--energy", on_off(p.energy),
                                   "--graphs", on_off(p.graphs),
                                   "--kernels", std::string(name(p.kernels)),
                                   "--seed", std::to_string(timing.seed),
                                   "--no-db",
                                   "-o", "jsonl"};
  if (single.seq_len > 0) args.insert(args.end(), {"-s", std::to_string(single.seq_len)});
  if (single.device_facts.kind == "cpu") {
    // The ranks share the CPU's cores.
    const int64_t cores = timing.threads.value_or(std::max<int64_t>(std::thread::hardware_concurrency(), 1));
    args.insert(args.end(), {"--threads", std::to_string(std::max<int64_t>(cores / world_size, 1))});
  } else if (timing.threads) {
    args.insert(args.end(), {"--threads", std::to_string(*timing.threads)});
  }
  return args;
}

Result combine_ranks(const std::vector<Result>& ranks, const Result& single) {
  const int world = static_cast<int>(ranks.size());
  for (size_t r = 0; r < ranks.size(); ++r)
    if (ranks[r].status != Status::ok)
      return failed_row(single, world, "rank " + std::to_string(r) + ": " + std::string(name(ranks[r].status)) +
                                           (ranks[r].message.empty() ? "" : ": " + ranks[r].message));
  // The step of N devices lasts as long as its slowest rank's.
  const auto slowest = std::max_element(ranks.begin(), ranks.end(), [](const Result& a, const Result& b) {
    return a.summary.median < b.summary.median;
  });
  Result row = single;
  row.data_parallel = true;
  row.world_size = world;
  row.timestamp = ranks.front().timestamp;
  row.warmup = slowest->warmup;
  row.samples_ms = slowest->samples_ms;
  row.graphs = slowest->graphs;
  row.graph_note = slowest->graph_note;
  row.message.clear();
  row.items_per_step = single.items_per_step * world;
  if (single.peak_tflops) row.peak_tflops = *single.peak_tflops * world;
  row.allreduce_busbw_gb_s = ranks.front().allreduce_busbw_gb_s;
  row.peak_memory_bytes.reset();
  for (const Result& r : ranks)
    if (r.peak_memory_bytes) row.peak_memory_bytes = std::max(row.peak_memory_bytes.value_or(0), *r.peak_memory_bytes);
  // Energy: every GPU's own; on the CPU the ranks share the package that rank 0 read.
  const bool shared_package = single.device_facts.kind == "cpu";
  row.joules_per_step = ranks.front().joules_per_step;
  row.watts = ranks.front().watts;
  row.energy_source = ranks.front().energy_source;
  row.energy_note = ranks.front().energy_note;
  for (size_t r = 1; r < ranks.size() && !shared_package; ++r) {
    if (row.joules_per_step && ranks[r].joules_per_step) *row.joules_per_step += *ranks[r].joules_per_step;
    else row.joules_per_step.reset();
    if (row.watts && ranks[r].watts) *row.watts += *ranks[r].watts;
    else row.watts.reset();
  }
  row.clock_min_mhz = slowest->clock_min_mhz;
  row.clock_median_mhz = slowest->clock_median_mhz;
  row.temperature_max_c = slowest->temperature_max_c;
  row.throttle = slowest->throttle;
  derive_figures(row);
  if (row.items_per_s && single.status == Status::ok && single.items_per_s && *single.items_per_s > 0)
    row.scaling_efficiency = *row.items_per_s / (world * *single.items_per_s);
  return row;
}

Result time_data_parallel(const Result& single, int world_size, const RankTiming& timing, const std::string& program,
                          const std::atomic<bool>* stop) {
  parallel::LaunchRequest launch;
  launch.world_size = world_size;
  launch.program = program;
  launch.args = rank_arguments(single, timing, world_size);
  launch.timeout = timing.timeout;
  launch.stop = stop;
  if (single.device_facts.kind == "cuda")
    for (const std::string& gpu : rank_gpus(single.device_facts.index, world_size))
      launch.rank_env.push_back({{"CUDA_VISIBLE_DEVICES", gpu}});
  parallel::LaunchOutcome outcome;
  try {
    outcome = parallel::launch_ranks(launch);
  } catch (const std::exception& e) {
    return failed_row(single, world_size, std::string("data-parallel ranks could not start: ") + e.what());
  }
  if (!outcome.ok())
    return failed_row(single, world_size, "data-parallel on " + std::to_string(world_size) +
                                              (world_size == 1 ? " device" : " devices") + " failed: " + outcome.failure());
  std::vector<Result> ranks;
  for (const parallel::RankOutcome& r : outcome.ranks) {
    std::vector<Result> rows;
    try {
      rows = parse_results(Format::jsonl, r.out);
    } catch (const std::exception& e) {
      return failed_row(single, world_size, "rank " + std::to_string(r.rank) + "'s row could not be read: " + e.what());
    }
    if (rows.size() != 1)
      return failed_row(single, world_size, printf_string("rank %d gave %zu rows, not 1", r.rank, rows.size()));
    ranks.push_back(std::move(rows.front()));
  }
  return combine_ranks(ranks, single);
}

std::string data_parallel_refusal(int world_size, const DeviceFacts& device, int visible_gpus,
                                  const std::vector<const Workload*>& workloads, bool reads_data, bool profiles) {
  for (const Workload* w : workloads)
    if (w->job() != Job::train)
      return "--ddp trains data-parallel, and " + w->name() + " does not train: give training workloads with -w";
  if (reads_data) return "--ddp trains on synthetic batches only: leave out --data";
  if (profiles) return "--ddp and --profile: profile the one-device rows in a run of their own";
  if (device.kind == "cuda" && device.index + world_size > visible_gpus)
    return printf_string("--ddp %d from %s needs %d CUDA GPUs from it; this machine has %d", world_size,
                         device.id.c_str(), world_size, visible_gpus);
  if (device.kind != "cuda" && device.kind != "cpu")
    return "--ddp runs on CUDA GPUs (NCCL) or the CPU (Gloo), not on " + device.id;
  if (const std::string why = parallel::group_unavailable(torch_device(device).type()); !why.empty()) return why;
  return "";
}

}  // namespace mlspeed
