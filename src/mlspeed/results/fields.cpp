#include "mlspeed/results/fields.h"

#include "mlspeed/results/enum_names.h"
#include "mlspeed/results/machine_fields.h"

namespace mlspeed {

template <> struct EnumNames<GraphUse> {
  static std::optional<GraphUse> parse(std::string_view text) { return parse_graph_use(text); }
  static constexpr const auto& values = kAllGraphUses;
};
template <> struct EnumNames<KernelSet> {
  static std::optional<KernelSet> parse(std::string_view text) { return parse_kernel_set(text); }
  static constexpr const auto& values = kAllKernelSets;
};
template <> struct EnumNames<Job> {
  static std::optional<Job> parse(std::string_view text) { return parse_job(text); }
  static constexpr const auto& values = kAllJobs;
};

namespace {

template <class Access> Field result_field(std::string name, std::string help, Access access) {
  return make_field<Result>(std::move(name), std::move(help), access);
}

#define MEMBER(expr) [](auto& r) -> auto& { return r.expr; }

std::vector<Field> make_result_fields() {
  std::vector<Field> fields = {
      result_field("run_id", "id of the run in the results database (0 if not stored)", MEMBER(run_id)),
      result_field("timestamp", "when the row was measured (UTC)", MEMBER(timestamp)),
      result_field("workload", "workload name", MEMBER(workload)),
      result_field("size", "workload size (tiny, full, ...)", MEMBER(size)),
      result_field("job", "train or infer", MEMBER(job)),
      result_field("device", "device id (cpu, cuda:0, mps)", MEMBER(device)),
      result_field("dtype", "fp32, tf32, fp16 or bf16", MEMBER(precision)),
      result_field("weight_format",
                   "how the weights were stored: f32, f16, bf16, or a llama.cpp type (q8_0, q4_0, q4_k_m, q6_k)",
                   MEMBER(weight_format)),
      result_field("batch", "batch size", MEMBER(batch)),
      result_field("seq_len", "sequence length (0 if none)", MEMBER(seq_len)),
      result_field("new_tokens", "tokens generated one at a time (0 unless the step generates)", MEMBER(new_tokens)),
      result_field("depth", "positions in the KV cache before the step (llama-bench's -d; 0 unless given)",
                   MEMBER(depth)),
      result_field("repetition", "repetition index, from 0", MEMBER(repetition)),
      result_field("data_parallel", "trained data-parallel (run --ddp N: one process a device, N = 1 included)",
                   MEMBER(data_parallel)),
      result_field("world_size",
                   "devices training together (run --ddp N: one process each, each on `batch` rows); 1: one device",
                   MEMBER(world_size)),
      result_field("weights", "random, or the safetensors file loaded", MEMBER(weights)),
      result_field("data", "synthetic, or the data set each step loaded", MEMBER(data)),
      result_field("status", "ok, oom, too-large, unsupported or error", MEMBER(status)),
      result_field("message", "why the row failed, or a note", MEMBER(message)),
      result_field("warmup", "untimed iterations before timing", MEMBER(warmup)),
      result_field("iterations", "timed iterations", MEMBER(summary.n)),
      result_field("median_ms", "median time per iteration", MEMBER(summary.median)),
      result_field("mean_ms", "mean time per iteration", MEMBER(summary.mean)),
      result_field("stddev_ms", "sample standard deviation (n-1)", MEMBER(summary.stddev)),
      result_field("min_ms", "fastest iteration", MEMBER(summary.min)),
      result_field("max_ms", "slowest iteration", MEMBER(summary.max)),
      result_field("cv", "coefficient of variation (stddev / mean)", MEMBER(summary.cv)),
      result_field("noise", "why the samples are unreliable: cv over 10%, outliers (hyperfine's test), n under 5, "
                     "a clock more than 10% below its median, a throttle reason; empty when clean",
            MEMBER(noise)),
      result_field("items_per_s", "throughput from the median iteration", MEMBER(items_per_s)),
      result_field("item_unit", "what throughput counts (tokens, samples)", MEMBER(item_unit)),
      result_field("items_per_step", "items processed per iteration", MEMBER(items_per_step)),
      result_field("flops_per_item", "model FLOPs per item (analytic)", MEMBER(flops_per_item)),
      result_field("tflops", "achieved model TFLOP/s", MEMBER(tflops)),
      result_field("peak_tflops", "device peak TFLOP/s for this dtype", MEMBER(peak_tflops)),
      result_field("mfu", "model FLOP utilisation (tflops / peak_tflops)", MEMBER(mfu)),
      result_field("peak_memory_bytes", "peak device memory (CPU: peak resident set)", MEMBER(peak_memory_bytes)),
      result_field("first_token_ms", "generation: median time to the first new token", MEMBER(first_token_ms)),
      result_field("ms_per_token", "generation: median time per token after the first", MEMBER(ms_per_token)),
      result_field("bytes_per_item", "memory-bound rows: bytes one item reads from device memory (analytic)",
            MEMBER(bytes_per_item)),
      result_field("gbps", "memory-bound rows: achieved GB/s (bytes_per_item over the time per item)", MEMBER(gbps)),
      result_field("peak_gbps", "the device's memory bandwidth in GB/s (GPU datasheet; CPU measured copy)",
            MEMBER(peak_gbps)),
      result_field("mbu", "memory bandwidth utilisation (gbps / peak_gbps)", MEMBER(mbu)),
      result_field("joules_per_step", "energy of one timed iteration, J (the timed region's energy over its iterations)",
                   MEMBER(joules_per_step)),
      result_field("joules_per_item", "energy per item, J (per token, sample or image)", MEMBER(joules_per_item)),
      result_field("items_per_joule", "items per joule", MEMBER(items_per_joule)),
      result_field("watts", "mean power over the timed iterations, W", MEMBER(watts)),
      result_field("energy_source",
                   "how the energy was read: nvml energy counter (its rate between steps, or the difference), "
                   "nvml power samples, rapl <zones>",
                   MEMBER(energy_source)),
      result_field("energy_note", "why the energy was not read (\"not available: ...\"); empty when it was or when "
                                  "--energy off", MEMBER(energy_note)),
      result_field("clock_min_mhz", "slowest clock sampled during the timed iterations (SM clock; CPU: cores' mean)",
                   MEMBER(clock_min_mhz)),
      result_field("clock_median_mhz", "median clock sampled during the timed iterations", MEMBER(clock_median_mhz)),
      result_field("temperature_max_c", "hottest temperature sampled during the timed iterations (NVIDIA)",
                   MEMBER(temperature_max_c)),
      result_field("throttle", "what held the clock down while timing (power-cap, thermal, hw-slowdown, ...); empty: "
                               "nothing", MEMBER(throttle)),
      result_field("steps_per_job", "steps in the job a user waits for (1: the step is the job)", MEMBER(steps_per_job)),
      result_field("job_s", "median step time x steps_per_job (when more than 1)", MEMBER(job_s)),
      result_field("scaling_efficiency",
                   "data-parallel rows: throughput on world_size devices / (world_size x one device's, same run)",
                   MEMBER(scaling_efficiency)),
      result_field("allreduce_busbw_gb_s",
                   "data-parallel rows: all-reduce bus bandwidth between the ranks, GB/s (nccl-tests' busbw)",
                   MEMBER(allreduce_busbw_gb_s)),
      result_field("parameters", "model parameters", MEMBER(parameters)),
      result_field("model", "llama-bench's model column (\"llama 7B Q4_0\"); empty for models llama.cpp does not name",
                   MEMBER(model)),
      result_field("model_bytes", "llama-bench's size: the bytes of the weights as stored (0 when not counted)",
                   MEMBER(model_bytes)),
      result_field("samples_ms", "raw time of every timed iteration", MEMBER(samples_ms)),
      result_field("first_token_samples_ms", "generation: raw time to the first token of every iteration",
            MEMBER(first_token_samples_ms)),
  };
  for (auto& f : machine_fields<Result>()) fields.push_back(std::move(f));
  fields.insert(fields.end(), {
      result_field("graphs", "what was timed: off, step (one CUDA graph), tokens (graphs per token), eager (fallback)",
            MEMBER(graphs)),
      result_field("graph_note", "why a step asked to run from a CUDA graph ran eagerly", MEMBER(graph_note)),
      result_field("kernels",
                   "whose kernels ran: mlspeed (its own where it has them: the quantised-weight products) or "
                   "libtorch (LibTorch's ops alone)",
                   MEMBER(kernels)),
      result_field("weight_kernels",
                   "how quantised weights were multiplied: cpu-avx512/avx2/portable, cuda-gemv, or dequantised for "
                   "a matrix product (empty without quantised weights)",
                   MEMBER(weight_kernels)),
      result_field("tf32", "TF32 allowed for float32 matrix products", MEMBER(tf32)),
      result_field("autocast", "autocast mixed precision on", MEMBER(autocast)),
      result_field("deterministic", "deterministic algorithms on", MEMBER(deterministic)),
      result_field("cudnn_benchmark", "cuDNN benchmark mode on", MEMBER(cudnn_benchmark)),
  });
  return fields;
}

#undef MEMBER

}  // namespace

const std::vector<Field>& result_fields() {
  static const std::vector<Field> fields = make_result_fields();
  return fields;
}

const Field* find_field(std::string_view name) { return find_field_in(result_fields(), name); }


}  // namespace mlspeed
