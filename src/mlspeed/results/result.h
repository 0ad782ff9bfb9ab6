// One result row: a configuration, its outcome and raw samples, the figures derived from them,
// and the full context it was measured in. Every output format and the database carry exactly
// the fields listed in fields.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/core/stats.h"
#include "mlspeed/core/numerics.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"
#include "mlspeed/core/job.h"

namespace mlspeed {

// Failures are rows, never crashes: `oom` (out of memory), `too-large` (refused before anything
// was allocated: the memory estimate exceeds the device's free memory), `unsupported` (the
// device cannot run this dtype or op, with the reason), `error` (anything else, with its message).
enum class Status { ok, oom, too_large, unsupported, error };
inline constexpr std::array<Status, 5> kAllStatuses = {Status::ok, Status::oom, Status::too_large,
                                                      Status::unsupported, Status::error};
std::string_view name(Status status);
std::optional<Status> parse_status(std::string_view text);

// What a row's timed iterations ran (`mlspeed run --graphs`): `off`, eager steps because graphs
// were not asked for or the device has none; `step`, the replay of one CUDA graph holding the
// whole step; `tokens`, a generation replaying its graphs (the prompt pass, then one per new
// token); `eager`, graphs were asked for but the step could not be recorded (graph_note says
// why), so the row is what an eager script sees.
enum class GraphUse { off, step, tokens, eager };
inline constexpr std::array<GraphUse, 4> kAllGraphUses = {GraphUse::off, GraphUse::step, GraphUse::tokens,
                                                          GraphUse::eager};
std::string_view name(GraphUse use);
std::optional<GraphUse> parse_graph_use(std::string_view text);

struct Result {
  int64_t run_id = 0;     // 0 until stored
  std::string timestamp;  // when the row was measured, ISO 8601 UTC

  // The configuration.
  std::string workload;
  std::string size;
  Job job = Job::train;
  std::string device;  // "cuda:0"
  Precision precision = Precision::fp32;
  // How the weights were stored (core/numerics.h): f32 for a training step's master weights, the
  // dtype of an inference, or a quantised format. Empty in rows stored before it was recorded;
  // stored_weights() reads those by the rule they were measured under.
  std::optional<ModelFormat> weight_format;
  int64_t batch = 0;
  int64_t seq_len = 0;     // 0 when the workload has none; the prompt length of a generation
  int64_t new_tokens = 0;  // tokens generated one at a time (0 unless the step generates)
  int64_t depth = 0;       // positions in the KV cache before the step (llama-bench's -d); 0: none
  int repetition = 0;
  // Data parallelism (`run --ddp N`): whether the row was trained data-parallel (one process a
  // device, N = 1 included), and the devices that trained together, each on `batch` rows of its
  // own; 1 for one device.
  bool data_parallel = false;
  int64_t world_size = 1;
  std::string weights = "random";  // "random" or the safetensors file loaded
  std::string data = "synthetic";  // "synthetic" or the data set read (the step includes loading)

  // The outcome.
  Status status = Status::ok;
  std::string message;
  int warmup = 0;
  std::vector<double> samples_ms;  // one per timed iteration
  Summary summary;                 // of samples_ms
  std::string noise;               // assess_noise(samples_ms).flag(): "" when clean or failed

  // What the workload does per step.
  int64_t parameters = 0;
  // llama-bench's model columns (Workload::stored_model): "llama 7B Q4_0" and the weights' bytes
  // as stored; empty and 0 for models llama.cpp has no name for.
  std::string model;
  int64_t model_bytes = 0;
  std::string item_unit;  // "tokens" / "samples"
  double items_per_step = 0;
  double flops_per_item = 0;

  // Derived; empty when unknown or when the row failed.
  std::optional<double> items_per_s;
  std::optional<double> tflops;       // achieved model TFLOP/s
  std::optional<double> peak_tflops;  // the device's peak for this precision
  std::optional<double> mfu;          // model FLOP utilisation, 0..1
  std::optional<int64_t> peak_memory_bytes;
  std::optional<double> first_token_ms;  // generation: median time to the first new token
  std::optional<double> ms_per_token;    // generation: median time per token after the first
  int64_t steps_per_job = 1;             // steps in the job a user waits for (SD: 50 denoising steps)
  std::optional<double> job_s;           // the median step times steps_per_job, when more than 1
  std::vector<double> first_token_samples_ms;  // one per timed iteration (generation only)
  // Data-parallel rows: the throughput on world_size devices over world_size times the same
  // configuration's one-device throughput in the same run; and the all-reduce bus bandwidth a probe
  // reached between the ranks before timing (busbw as nccl-tests reports it, GB/s).
  std::optional<double> scaling_efficiency;
  std::optional<double> allreduce_busbw_gb_s;

  // How the iterations ran: CUDA graph replays or eager steps (see GraphUse).
  GraphUse graphs = GraphUse::off;
  std::string graph_note;  // why a step asked to run from a graph ran eagerly
  // How quantised weights were multiplied (quant/quantized_matrix.h's path_name): "cpu-avx512",
  // "cuda-gemv", "dequantize+matmul"...; empty when no weight is quantised.
  std::string weight_kernels;
  // Whose kernels ran (core/kernel_set.h, `run --kernels`): mlspeed's own where it has them, or
  // LibTorch's alone.
  KernelSet kernels = KernelSet::mlspeed;

  // The memory roofline of bandwidth-bound rows (decoding): the fewest bytes one item must read
  // from device memory (every weight once, the KV cache), counted analytically by the workload;
  // 0 where the row is compute-bound and no such figure applies.
  double bytes_per_item = 0;
  std::optional<double> gbps;       // achieved GB/s: bytes_per_item over the time per item
  std::optional<double> peak_gbps;  // the device's memory bandwidth (see DeviceFacts)
  std::optional<double> mbu;        // memory bandwidth utilisation, gbps / peak_gbps

  // Energy over the timed iterations (device/energy.h, `run --energy`): empty where it was not
  // read, with the reason in energy_note ("not available: ...").
  std::optional<double> joules_per_step;  // the region's energy over its iterations
  std::optional<double> watts;            // the region's mean power
  std::optional<double> joules_per_item;  // derived: joules_per_step / items_per_step
  std::optional<double> items_per_joule;  // derived
  std::string energy_source;              // "nvml energy counter", "rapl package-0+dram-0"
  std::string energy_note;
  // Sampled while the iterations ran: the SM clock (NVIDIA) or the cores' mean clock (CPU), the
  // hottest temperature, and the throttle reasons seen ("power-cap,thermal"; empty: none).
  std::optional<double> clock_min_mhz;
  std::optional<double> clock_median_mhz;
  std::optional<double> temperature_max_c;
  std::string throttle;

  // Context: the device and host this was measured on, and the precision flags in force.
  DeviceFacts device_facts;  // peak_flops is not stored per row; peak_tflops is
  HostFacts host;
  bool tf32 = false;
  bool autocast = false;
  bool deterministic = false;
  bool cudnn_benchmark = false;
};

// The row's weight format, or for an older row without one the job's own storage of its dtype.
ModelFormat stored_weights(const Result& r);

// Whether the row was trained data-parallel (`run --ddp N`), N = 1 included; rows stored before
// the flag existed say so by their world size.
inline bool is_data_parallel(const Result& r) { return r.data_parallel || r.world_size > 1; }

// The noise flag's part from the clocks (device/energy.h): "clock fell 18% below its median" when
// the slowest sample was more than 10% below the median, "throttled: thermal" when a reason that
// holds the clock down was seen; "" otherwise.
std::string clock_flag(const Result& r);

// Fills summary and the derived figures from samples_ms and the facts above.
void derive_figures(Result& result);

}  // namespace mlspeed
