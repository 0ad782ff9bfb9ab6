#include "mlspeed/bench/runner.h"

#include <ATen/Context.h>
#include <c10/core/Device.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include "mlspeed/bench/failure.h"
#include "mlspeed/device/profile_summary.h"
#include "mlspeed/core/stats.h"
#include "mlspeed/bench/step_driver.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/precision_flags.h"
#include "mlspeed/quant/quantized_matrix.h"
#include "mlspeed/device/profiler.h"
#include "mlspeed/device/energy.h"
#include "mlspeed/device/timer.h"

namespace mlspeed {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A file name for one configuration's profile: "bert-base-infer-full-cuda0-bf16-b4-s512".
std::string profile_stem(const Configuration& c) {
  std::string device;
  for (char ch : c.placement.primary().id)
    if (ch != ':') device += ch;
  std::string stem = c.workload->name() + "-" + c.size + "-" + device + "-" + std::string(name(c.numerics.precision)) +
                     (c.numerics.weights ? "-" + std::string(name(*c.numerics.weights)) : "") + "-b" +
                     std::to_string(c.shape.batch);
  if (c.shape.seq > 0) stem += "-s" + std::to_string(c.shape.seq);
  if (c.shape.new_tokens > 0) stem += "-g" + std::to_string(c.shape.new_tokens);
  if (c.shape.depth > 0) stem += "-d" + std::to_string(c.shape.depth);
  if (c.repetition > 0) stem += "-r" + std::to_string(c.repetition);
  return stem;
}

// The meter's reading into the row: per iteration, the mean power, the clocks and throttling.
void record_energy(const EnergyReading& reading, Result& result) {
  if (reading.joules && !result.samples_ms.empty()) {
    result.joules_per_step = *reading.joules / double(result.samples_ms.size());
    if (reading.seconds > 0) result.watts = *reading.joules / reading.seconds;
  }
  result.energy_source = reading.source;
  result.energy_note = reading.unavailable;
  result.clock_min_mhz = reading.clock_min_mhz;
  result.clock_median_mhz = reading.clock_median_mhz;
  result.temperature_max_c = reading.temperature_max_c;
  result.throttle = join(reading.throttle_reasons, ",");
}

}  // namespace

// The model a run currently holds, with the failure to build it if it could not be built.
struct Runner::OpenModel {
  const Configuration* config = nullptr;
  std::unique_ptr<Session> session;
  std::optional<Failure> failure;
};

Runner::Runner(TimingPolicy policy, OpenOptions open, const RunContext& context, Progress& progress,
               const std::atomic<bool>& stop)
    : policy_(policy), open_(std::move(open)), context_(context), progress_(progress), stop_(stop) {}

Result Runner::blank_result(const Configuration& c) const {
  const DeviceFacts& device = c.placement.primary();
  Result r;
  r.workload = c.workload->name();
  r.size = c.size;
  r.job = c.workload->job();
  r.device = device.id;
  r.data_parallel = c.placement.is_data_parallel();
  r.world_size = c.placement.world_size();
  r.precision = c.numerics.precision;
  r.weight_format = weight_format(c.numerics, r.job);
  // A prompt multiplies batch x seq rows at once, a decode step batch rows.
  r.kernels = policy_.kernels;
  if (quantized(c.numerics))
    r.weight_kernels =
        quant::path_name(torch_device(device), c.shape.batch * (c.shape.seq > 0 ? c.shape.seq : 1), policy_.kernels);
  r.batch = c.shape.batch;
  r.seq_len = c.shape.seq;
  r.new_tokens = c.shape.new_tokens;
  r.depth = c.shape.depth;
  r.repetition = c.repetition;
  if (!open_.weights.empty()) r.weights = open_.weights;
  if (!open_.data.empty()) r.data = open_.data;
  r.steps_per_job = c.workload->steps_per_job();
  r.warmup = policy_.warmup;
  if (const WorkloadSize* size = find_size(*c.workload, c.size)) r.parameters = size->parameters;
  if (const std::optional<StoredModel> model = c.workload->stored_model(c.size, c.numerics)) {
    r.model = model->label;
    r.model_bytes = model->bytes;
  }
  r.item_unit = c.workload->item_unit();
  r.items_per_step = c.workload->items_per_step(c.shape);
  r.flops_per_item = c.workload->flops_per_item(c.size, c.shape);
  r.bytes_per_item = c.workload->bytes_per_item(c.size, c.shape, c.numerics);
  auto peak = device.peak_flops.find(c.numerics.precision);
  if (peak != device.peak_flops.end()) r.peak_tflops = peak->second / 1e12;
  if (device.peak_bandwidth > 0) r.peak_gbps = device.peak_bandwidth / 1e9;
  r.device_facts = device;
  r.device_facts.peak_flops.clear();
  r.host = context_.host;
  return r;
}

std::optional<std::string> Runner::too_large(const Configuration& c, bool model_open) const {
  const auto estimate = c.workload->memory_estimate(c.size, c.shape, c.numerics);
  if (!estimate) return std::nullopt;
  const auto free = free_memory(torch_device(c.placement.primary()));
  if (!free) return std::nullopt;
  const int64_t needed = model_open ? estimate->per_step : estimate->total();
  if (needed <= *free) return std::nullopt;
  return "needs at least " + format_bytes(needed) + " (model " + format_bytes(estimate->model) + ", step " +
         format_bytes(estimate->per_step) + (model_open ? ", model already loaded" : "") + ") but " +
         c.placement.primary().id + " has " + format_bytes(*free) + " free; try a smaller size, batch or dtype";
}

bool Runner::run(const std::vector<Configuration>& plan, const std::function<void(Result&)>& on_result) {
  OpenModel model;
  std::optional<Result> one_device_row;  // the last row, when it ran on one device (plan[i - 1]'s)
  for (size_t i = 0; i < plan.size(); ++i) {
    if (stop_) return false;
    const Configuration& config = plan[i];
    current_index_ = static_cast<int>(i);
    total_ = static_cast<int>(plan.size());
    current_start_ = Clock::now();
    progress_.begin(config, static_cast<int>(i), static_cast<int>(plan.size()));
    Result result = blank_result(config);

    const DeviceFacts& device = config.placement.primary();
    if (auto reason = unsupported_reason(device, config.numerics.precision, config.workload->job())) {
      result.status = Status::unsupported;
      result.message = *reason;
      record_flags(config, result);
    } else if (config.placement.is_data_parallel()) {
      const bool twin = i > 0 && one_device_row && one_device_twin(plan[i - 1], config);
      result = data_parallel_row(config, model, twin ? &*one_device_row : nullptr);
      if (stop_) return false;  // Ctrl-C stopped the ranks: an interruption, not a failed row
    } else {
      // TF32 is process-wide state: on for the tf32 rows only, so fp32 means full fp32, and
      // restored when the row is done. The row records the flags it was timed under.
      Tf32Scope tf32(config.numerics.precision);
      KernelSetScope kernels(policy_.kernels);  // whose kernels the model is built and timed with
      if (!build_and_measure(config, model, result)) return false;
      record_flags(config, result);
    }
    result.timestamp = now_iso8601();
    derive_figures(result);
    progress_.end(result);
    finished_seconds_ += seconds_since(current_start_);
    ++finished_count_;
    on_result(result);
    one_device_row.reset();
    if (!config.placement.is_data_parallel()) one_device_row = result;
  }
  return true;
}

Result Runner::data_parallel_row(const Configuration& config, OpenModel& model, const Result* single) {
  model = OpenModel{};
  release_cached_memory(torch_device(config.placement.primary()));
  Result row = blank_result(config);
  if (!single) {
    row.status = Status::error;
    row.message = "a data-parallel configuration follows the same configuration on one device in the plan";
  } else if (single->status != Status::ok) {
    row.status = single->status;
    row.message = "not timed on " + config.placement.label() + ": its one-device row failed (" +
                  std::string(name(single->status)) + ")";
  } else if (!data_parallel_) {
    row.status = Status::error;
    row.message = "this program cannot start data-parallel ranks";
  } else {
    progress_.phase("training on " + std::to_string(config.placement.world_size()) + " ranks");
    return data_parallel_(*single, config.placement.world_size());
  }
  record_flags(config, row);
  return row;
}

bool Runner::build_and_measure(const Configuration& config, OpenModel& model, Result& result) {
  const c10::Device device = torch_device(config.placement.primary());
  const bool reuse = model.config && same_model(*model.config, config);
  if (!reuse) {
    model = OpenModel{};  // free the previous model before building the next one
    release_cached_memory(device);
  }
  if (std::optional<std::string> refusal = too_large(config, reuse && model.session)) {
    result.status = Status::too_large;  // refused before anything was allocated
    result.message = *refusal;
    return true;
  }
  if (!reuse) {
    model.config = &config;
    progress_.phase("building model");
    try {
      model.session = config.workload->open(config.size, device, config.numerics, open_);
      if (open_hook_) open_hook_(*model.session);
    } catch (const InputFileError&) {
      throw;  // every configuration would read the same file: stop the sweep
    } catch (...) {
      model.failure = classify_failure(std::current_exception());
    }
  }
  if (model.failure) {
    result.status = model.failure->status;
    result.message = "building the model failed: " + model.failure->message;
    return true;
  }
  try {
    return measure(config, *model.session, result);
  } catch (const InputFileError&) {
    throw;
  } catch (...) {
    const Failure f = classify_failure(std::current_exception());
    result.status = f.status;
    result.message = f.message;
    result.samples_ms.clear();
    result.first_token_samples_ms.clear();
    release_cached_memory(device);  // after an OOM, give the next (smaller) shape a chance
    return true;
  }
}

void Runner::record_flags(const Configuration& config, Result& result) const {
  result.tf32 = tf32_flags().matmul;
  result.autocast = config.workload->job() == Job::train && autocast_dtype(config.numerics.precision).has_value();
  result.deterministic = at::globalContext().deterministicAlgorithms();
  result.cudnn_benchmark = at::globalContext().benchmarkCuDNN();
}

bool Runner::measure(const Configuration& config, Session& session, Result& result) {
  const c10::Device device = torch_device(config.placement.primary());
  // A long context (--depth 4096 of a 7B model on a CPU) takes a while to fill: say so.
  if (config.shape.depth > 0) progress_.phase("filling " + std::to_string(config.shape.depth) + " positions of context");
  session.prepare(config.shape);
  if (!open_.data.empty()) result.data = session.data_description();
  StepDriver driver(session, device, policy_.graphs);
  // What an earlier shape or model left cached goes back first: the warm-up then leaves cached
  // what this shape's steps allocate, for the timed steps to reuse, and no more.
  release_cached_memory(device);
  for (int w = 0; w < policy_.warmup; ++w) {
    progress_.phase(printf_string("warm-up %d/%d", w + 1, policy_.warmup));
    driver.warm_up();
    if (stop_) return false;
  }
  // Recording allocates what a step allocates: it counts towards the peak.
  reset_peak_memory(device);
  if (driver.will_record()) {
    progress_.phase("recording the CUDA graph");
    driver.record();
    if (driver.use() != GraphUse::eager) {
      driver.step();  // untimed: a graph's first launch uploads it to the device
      synchronize(device);
    }
  }
  result.graphs = driver.use();
  result.graph_note = driver.note();
  auto timer = make_timer(device);
  // Started last, stopped first: the region it reads is the timed iterations.
  const std::unique_ptr<EnergyMeter> meter = policy_.energy ? make_energy_meter(config.placement.primary()) : nullptr;
  if (meter) meter->start();
  const int planned = policy_.iterations.value_or(0);
  double measured_ms = 0;
  while (true) {
    timer->start();
    driver.step();
    const double ms = timer->stop_ms();
    result.samples_ms.push_back(ms);
    if (auto first = session.last_first_token_ms()) result.first_token_samples_ms.push_back(*first);
    measured_ms += ms;
    if (stop_) return false;

    const int done = static_cast<int>(result.samples_ms.size());
    const double mean_ms = measured_ms / done;
    double left_here;
    bool finished;
    if (policy_.iterations) {
      finished = done >= *policy_.iterations;
      left_here = (*policy_.iterations - done) * mean_ms / 1e3;
    } else {
      const int more = std::max(policy_.min_iterations - done, 0);
      left_here = std::max(policy_.min_time_s - measured_ms / 1e3, more * mean_ms / 1e3);
      finished = (measured_ms / 1e3 >= policy_.min_time_s && done >= policy_.min_iterations) ||
                 done >= policy_.max_iterations;
    }
    progress_.iteration(done, planned, ms, seconds_left(left_here));
    if (finished) break;
  }
  if (meter) record_energy(meter->stop(), result);
  if (!policy_.iterations && measured_ms / 1e3 < policy_.min_time_s)  // stopped by max_iterations
    result.message = printf_string("timed %d iterations, the most mlspeed times, in %.3g s of the %.3g s --min-time",
                                   policy_.max_iterations, measured_ms / 1e3, policy_.min_time_s);
  result.peak_memory_bytes = peak_memory(device);
  if (!policy_.profile_dir.empty()) profile(config, driver, result);
  return true;
}

void Runner::profile(const Configuration& config, StepDriver& driver, const Result& result) {
  const c10::Device device = torch_device(config.placement.primary());
  const int steps = std::max(policy_.profile_steps, 1);
  progress_.phase(printf_string("profiling %d steps", steps));
  const auto report = [&](const std::string& text) {
    if (profile_report_) profile_report_("profile of " + describe(config) + text);
  };
  // The row's samples are already taken: a profile that fails or cannot be written costs the row
  // nothing, and is reported instead.
  std::vector<ProfiledEvent> events;
  try {
    // Steps run as they were timed (replays where graphs are used).
    events = capture_profile(device, [&] {
      for (int i = 0; i < steps; ++i) driver.step();
      synchronize(device);
    });
  } catch (...) {
    return report(" failed: " + classify_failure(std::current_exception()).message + "\n");
  }
  const ProfileSummary summary = summarise(events, steps);
  const std::string base = policy_.profile_dir + "/" + profile_stem(config);
  std::string why = write_whole_file(base + ".trace.json", trace_json(events, steps, describe(config)));
  if (why.empty()) why = write_whole_file(base + ".ops.csv", ops_csv(summary));
  if (!why.empty()) return report(" not written: " + why + "\n");
  report(" (" + std::to_string(steps) + " steps, " + base + ".trace.json):\n" +
         format_top(summary, 10, median(result.samples_ms)));
}

double Runner::seconds_left(double current_left) const {
  return mlspeed::seconds_left(
      {finished_seconds_, finished_count_, seconds_since(current_start_), current_left, total_ - current_index_ - 1});
}

}  // namespace mlspeed
