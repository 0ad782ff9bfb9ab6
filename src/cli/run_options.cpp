#include "cli/run_options.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

// Every size any workload has, in catalogue order.
std::vector<std::string> size_names() {
  std::vector<std::string> names;
  for (const Workload* w : workload_catalogue())
    for (const WorkloadSize& s : w->sizes())
      if (std::find(names.begin(), names.end(), s.name) == names.end()) names.push_back(s.name);
  return names;
}

constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxRanks = 64;

OptionTable<RunOptions> run_table() {
  return {
      {"-w,--workloads", "LIST", "workloads to time (see `mlspeed workloads`), or all", "all", "",
       [](RunOptions& o, const std::string& t) {
         o.workloads = t == "all" ? workload_names() : parse_choices(t, "--workloads", workload_names());
       }},
      {"-d,--devices", "LIST", "devices: cpu, cuda:N, cuda (every GPU), mps, or all", "all", "",
       [](RunOptions& o, const std::string& t) { o.devices = split_list(t, "--devices"); }},
      {"-t,--dtypes", "LIST",
       "fp32, tf32, fp16, bf16 (training in fp16/bf16 uses autocast; float32, float16, bfloat16 are read as "
       "their short names)",
       "fp32", "", [](RunOptions& o, const std::string& t) { o.dtypes = parse_precisions(t, "--dtypes"); }},
      {"--weight-format", "LIST",
       "how the generation workloads store their weights: f32, f16, bf16, or llama.cpp's q8_0, q4_0, q4_k_m, "
       "q6_k (any case: Q4_K_M); each a row beside the dtype's own",
       std::nullopt, "each model's own",
       [](RunOptions& o, const std::string& t) { o.weight_formats = parse_model_formats(t, "--weight-format"); }},
      {"--sizes", "LIST",
       "workload sizes: tiny (seconds on any CPU), full (the published model), and between them the "
       "sizes `mlspeed workloads` lists; a workload without a size skips it",
       "full", "", [](RunOptions& o, const std::string& t) { o.sizes = parse_choices(t, "--sizes", size_names()); }},
      {"-b,--batch", "LIST", "batch sizes", std::nullopt, "each workload's own",
       [](RunOptions& o, const std::string& t) { o.batches = parse_positive_ints(t, "--batch"); }},
      {"-s,--seq", "LIST",
       "sequence lengths, for workloads that have one; for the language-model tests (pp, llama-bench's -p) 0 "
       "leaves the prompt tests out",
       std::nullopt, "each workload's own",
       [](RunOptions& o, const std::string& t) { o.seqs = parse_nonnegative_ints(t, "--seq"); }},
      {"-g,--new-tokens", "LIST",
       "tokens to generate, for generation workloads (llama-bench's -n); for the language-model tests 0 leaves the "
       "generation tests (tg) out",
       std::nullopt, "each workload's own",
       [](RunOptions& o, const std::string& t) { o.new_tokens = parse_nonnegative_ints(t, "--new-tokens"); }},
      {"--depth", "LIST",
       "language-model tests after filling the KV cache with this many positions of context, untimed "
       "(llama-bench's -d: \"tg128 @ d4096\"); 0 is an empty cache",
       "0", "",
       [](RunOptions& o, const std::string& t) {
         o.depths.clear();
         for (const std::string& item : split_list(t, "--depth"))
           o.depths.push_back(parse_int_in_range(item, "--depth", 0, kMaxShapeValue));
       }},
      {"-r,--repetitions", "N", "times each configuration is measured, each one a row", "1", "",
       [](RunOptions& o, const std::string& t) { o.repetitions = parse_count(t, "--repetitions", 1); }},
      {"--warmup", "N", "untimed iterations before timing", "1", "",
       [](RunOptions& o, const std::string& t) { o.warmup = parse_count(t, "--warmup", 0); }},
      {"-n,--iterations", "N", "timed iterations (instead of --min-time)", std::nullopt, "until --min-time",
       [](RunOptions& o, const std::string& t) { o.iterations = parse_count(t, "--iterations", 1); }},
      {"--min-time", "SECONDS", "time each configuration for at least this long (and 3 iterations)", "2", "",
       [](RunOptions& o, const std::string& t) { o.min_time = parse_min_time(t); }},
      {"--energy", "on|off",
       "read the energy the timed iterations used (NVIDIA GPUs: NVML; the CPU: RAPL through Linux's powercap) "
       "with the clocks and the throttle reasons seen (on), or not (off); a device whose counters cannot be read "
       "says why under the table",
       "on", "",
       [](RunOptions& o, const std::string& t) {
         if (t != "on" && t != "off") throw UsageError("--energy: unknown value '" + t + "'; choose from: on, off");
         o.energy = t == "on";
       }},
      {"--graphs", "on|off",
       "CUDA devices: time the replay of a CUDA graph recorded after the warm-up (on), or eager steps "
       "launched one kernel at a time from the host, what an eager PyTorch script sees (off)",
       "on", "",
       [](RunOptions& o, const std::string& t) {
         if (t != "on" && t != "off") throw UsageError("--graphs: unknown value '" + t + "'; choose from: on, off");
         o.graphs = t == "on";
       }},
      kernels_option<RunOptions>(),
      {"--profile", "DIR",
       "after timing each configuration, run 5 more steps under LibTorch's profiler (Kineto) and write "
       "DIR/<configuration>.trace.json (Perfetto, chrome://tracing) and .ops.csv (time per kernel or op); "
       "prints the 10 longest and how busy the device was",
       std::nullopt, "off",
       [](RunOptions& o, const std::string& t) {
         if (t.empty()) throw UsageError("--profile: the folder name is empty");
         o.profile = t;
       }},
      format_option<RunOptions, Format::md, Format::json, Format::jsonl, Format::csv>(),
      wide_option<RunOptions>(),
      db_option<RunOptions>(),
      no_db_option<RunOptions>("do not store this run"),
      label_option<RunOptions>("a name for the stored run (\"driver 580\"), shown by `mlspeed history`, taken by "
                               "`mlspeed compare label:TEXT`",
                               "none"),
      {"--ddp", "N",
       "also time each training configuration data-parallel on N devices of its kind, one process each "
       "(CUDA: NCCL, GPUs from the one named by -d; CPU: Gloo, the ranks sharing its cores), each rank on "
       "the configuration's batch, with the gradients all-reduced during the backward pass as PyTorch's DDP "
       "does; a row beside the one-device row with the scaling efficiency and the all-reduce bus bandwidth",
       std::nullopt, "off",
       [](RunOptions& o, const std::string& t) { o.ddp = parse_int_in_range(t, "--ddp", 1, kMaxRanks); }},
      {"--threads", "N", "LibTorch intra-op threads for CPU work", std::nullopt, "LibTorch's default",
       [](RunOptions& o, const std::string& t) {
         o.threads = parse_positive_int(t, "--threads");
         // LibTorch takes an int and starts every thread at once: 100000 hangs, 2^31 throws.
         if (o.threads && *o.threads > kMaxThreads)
           throw UsageError("--threads: '" + t + "' is out of range; expected 1 to " + std::to_string(kMaxThreads));
       }},
      {"-m,--model", "LIST",
       "GGUF files (llama.cpp's format, llama-bench's -m) of Llama-family models to time as llama-bench does: "
       "pp512 and tg128 with the file's own weights; instead of the catalogue unless -w is given too",
       std::nullopt, "none",
       [](RunOptions& o, const std::string& t) {
         for (const std::string& path : split_list(t, "--model")) o.models.push_back(existing_file(path, "--model"));
       }},
      {"--weights", "FILE",
       "real weights from a .safetensors file with the public checkpoint's tensor names (one workload)",
       std::nullopt, "random", [](RunOptions& o, const std::string& t) { o.weights = existing_file(t, "--weights"); }},
      {"--data", "PATH", "a real data set for the workloads that read one (see `mlspeed workloads`)",
       std::nullopt, "synthetic",
       [](RunOptions& o, const std::string& t) { o.data = existing_file(t, "--data", /*folder_too=*/true); }},
      {"--seed", "N", "seed for weights and synthetic data", "0", "",
       [](RunOptions& o, const std::string& t) {
         o.seed = static_cast<uint64_t>(parse_nonnegative_int(t, "--seed"));
       }},
  };
}

}  // namespace

const OptionTable<RunOptions>& run_option_table() {
  static const OptionTable<RunOptions> table = run_table();
  return table;
}

RunOptions parse_run_options(const Given& given) {
  if (given.count("label") && given.count("no-db"))
    throw UsageError("--label names the stored run, and --no-db stores nothing; give one");
  if (given.count("iterations") && given.count("min-time"))
    throw UsageError("-n and --min-time both given: -n times exactly N iterations, --min-time times until S seconds "
                     "have been measured; give one");
  if (given.count("model") && given.count("weights"))
    throw UsageError("--weights loads a safetensors checkpoint into a catalogue model, and --model times a GGUF file "
                     "with its own weights; give one");
  if (given.count("weight-format") && given.count("weights"))
    throw UsageError("--weights loads a safetensors checkpoint in its own dtype, and --weight-format stores random "
                     "weights in another format; give one (a checkpoint in GGUF is timed with --model)");
  RunOptions options = parse_options(run_option_table(), given);
  if (!options.models.empty() && !given.count("workloads")) options.workloads.clear();
  check_wide(options.wide, options.format);
  return options;
}

void apply_threads(const std::optional<int64_t>& threads) {
  if (threads) at::set_num_threads(static_cast<int>(*threads));
}

}  // namespace mlspeed::cli
