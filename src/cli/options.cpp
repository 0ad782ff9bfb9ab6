#include "cli/options.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <stdexcept>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/core/precision.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

std::vector<std::string> precision_names() {
  std::vector<std::string> names;
  for (Precision p : kAllPrecisions) names.emplace_back(name(p));
  return names;
}

// Every size any workload has, in catalogue order.
std::vector<std::string> size_names() {
  std::vector<std::string> names;
  for (const Workload* w : workload_catalogue())
    for (const WorkloadSize& s : w->sizes())
      if (std::find(names.begin(), names.end(), s.name) == names.end()) names.push_back(s.name);
  return names;
}

// A path to read: a regular file, or also a folder when `folder_too` (a data set's tree). Named
// pipes and devices are refused here, before anything opens them and blocks or reads forever.
std::string existing_file(const std::string& text, const char* option, bool folder_too = false) {
  if (text.empty()) throw UsageError(std::string(option) + ": the path is empty");
  if (!path_exists(text)) throw UsageError(std::string(option) + ": " + text + " does not exist");
  const std::string why = not_a_regular_file(text);
  if (why.empty() || (folder_too && is_directory(text))) return text;
  throw UsageError(std::string(option) + ": " + text + " " + why + "; give a regular file" +
                   (folder_too ? " or a folder" : ""));
}

constexpr int64_t kMaxThreads = 1024;

std::vector<OptionSpec> make_table() {
  return {
      {"-w,--workloads", "LIST", "workloads to time (see `mlspeed workloads`), or all", "all",
       [](RunOptions& o, const std::string& t) {
         o.workloads = t == "all" ? workload_names() : parse_choices(t, "--workloads", workload_names());
       }},
      {"-d,--devices", "LIST", "devices: cpu, cuda:N, cuda (every GPU), mps, or all", "all",
       [](RunOptions& o, const std::string& t) { o.devices = split_list(t, "--devices"); }},
      {"-t,--dtypes", "LIST", "fp32, tf32, fp16, bf16 (training in fp16/bf16 uses autocast)", "fp32",
       [](RunOptions& o, const std::string& t) { o.dtypes = parse_choices(t, "--dtypes", precision_names()); }},
      {"--sizes", "LIST",
       "workload sizes: tiny (seconds on any CPU), full (the published model), and between them the "
       "sizes `mlspeed workloads` lists; a workload without a size skips it",
       "full", [](RunOptions& o, const std::string& t) { o.sizes = parse_choices(t, "--sizes", size_names()); }},
      {"-b,--batch", "LIST", "batch sizes", "each workload's own",
       [](RunOptions& o, const std::string& t) {
         o.batches = t == "each workload's own" ? std::vector<int64_t>{} : parse_positive_ints(t, "--batch");
       }},
      {"-s,--seq", "LIST", "sequence lengths, for workloads that have one", "each workload's own",
       [](RunOptions& o, const std::string& t) {
         o.seqs = t == "each workload's own" ? std::vector<int64_t>{} : parse_positive_ints(t, "--seq");
       }},
      {"-g,--new-tokens", "LIST", "tokens to generate, for generation workloads (llama-bench's -n)",
       "each workload's own",
       [](RunOptions& o, const std::string& t) {
         o.new_tokens =
             t == "each workload's own" ? std::vector<int64_t>{} : parse_positive_ints(t, "--new-tokens");
       }},
      {"-r,--repetitions", "N", "times each configuration is measured, each one a row", "1",
       [](RunOptions& o, const std::string& t) { o.repetitions = parse_positive_int(t, "--repetitions"); }},
      {"--warmup", "N", "untimed iterations before timing", "1",
       [](RunOptions& o, const std::string& t) { o.warmup = parse_nonnegative_int(t, "--warmup"); }},
      {"-n,--iterations", "N", "timed iterations (instead of --min-time)", "until --min-time",
       [](RunOptions& o, const std::string& t) {
         if (t == "until --min-time") o.iterations.reset();
         else o.iterations = parse_positive_int(t, "--iterations");
       }},
      {"--min-time", "SECONDS", "time each configuration for at least this long (and 3 iterations)", "2",
       [](RunOptions& o, const std::string& t) { o.min_time = parse_positive_seconds(t, "--min-time"); }},
      {"--graphs", "on|off",
       "CUDA devices: time the replay of a CUDA graph recorded after the warm-up (on), or eager steps "
       "launched one kernel at a time from the host, what an eager PyTorch script sees (off)",
       "on",
       [](RunOptions& o, const std::string& t) {
         if (t != "on" && t != "off") throw UsageError("--graphs: unknown value '" + t + "'; choose from: on, off");
         o.graphs = t == "on";
       }},
      {"--profile", "DIR",
       "after timing each configuration, run 5 more steps under LibTorch's profiler (Kineto) and write "
       "DIR/<configuration>.trace.json (Perfetto, chrome://tracing) and .ops.csv (time per kernel or op); "
       "prints the 10 longest and how busy the device was",
       "off",
       [](RunOptions& o, const std::string& t) {
         if (t.empty()) throw UsageError("--profile: the folder name is empty");
         o.profile = t == "off" ? "" : t;
       }},
      {"-o,--format", "FORMAT", "output: md, json, jsonl, csv", "md",
       [](RunOptions& o, const std::string& t) {
         if (!parse_format(t))
           throw UsageError("--format: unknown format '" + t + "'; choose from: " + join(format_names(), ", "));
         o.format = t;
       }},
      {"--db", "PATH", "results database file", "$MLSPEED_DB or ~/.local/share/mlspeed/results.db",
       [](RunOptions& o, const std::string& t) {
         if (t.empty()) throw UsageError("--db: the path is empty");
         if (t.rfind("$MLSPEED_DB", 0) != 0) o.db = t;
       }},
      {"--no-db", "", "do not store this run", "",
       [](RunOptions& o, const std::string&) { o.no_db = true; }},
      {"--threads", "N", "LibTorch intra-op threads for CPU work", "LibTorch's default",
       [](RunOptions& o, const std::string& t) {
         if (t == "LibTorch's default") o.threads.reset();
         else o.threads = parse_positive_int(t, "--threads");
         // LibTorch takes an int and starts every thread at once: 100000 hangs, 2^31 throws.
         if (o.threads && *o.threads > kMaxThreads)
           throw UsageError("--threads: '" + t + "' is out of range; expected 1 to " + std::to_string(kMaxThreads));
       }},
      {"--weights", "FILE",
       "real weights from a .safetensors file with the public checkpoint's tensor names (one workload)",
       "random", [](RunOptions& o, const std::string& t) { o.weights = t == "random" ? "" : existing_file(t, "--weights"); }},
      {"--data", "PATH", "a real data set for the workloads that read one (see `mlspeed workloads`)",
       "synthetic", [](RunOptions& o, const std::string& t) { o.data = t == "synthetic" ? "" : existing_file(t, "--data", /*folder_too=*/true); }},
      {"--seed", "N", "seed for weights and synthetic data", "0",
       [](RunOptions& o, const std::string& t) {
         o.seed = static_cast<uint64_t>(parse_nonnegative_int(t, "--seed"));
       }},
  };
}

}  // namespace

std::string OptionSpec::long_name() const {
  const auto dashes = flags.rfind("--");
  return flags.substr(dashes + 2);
}

const std::vector<OptionSpec>& run_option_table() {
  static const std::vector<OptionSpec> table = make_table();
  return table;
}

const OptionSpec& run_option(const std::string& long_name) {
  for (const auto& spec : run_option_table())
    if (spec.long_name() == long_name) return spec;
  throw std::logic_error("no option --" + long_name);
}

RunOptions parse_run_options(const std::map<std::string, std::string>& given) {
  if (given.count("iterations") && given.count("min-time"))
    throw UsageError("-n and --min-time both given: -n times exactly N iterations, --min-time times until S seconds "
                     "have been measured; give one");
  RunOptions options;
  for (const auto& spec : run_option_table()) {
    auto it = given.find(spec.long_name());
    if (it != given.end()) spec.apply(options, it->second);
    else if (!spec.value_name.empty()) spec.apply(options, spec.default_text);
  }
  return options;
}

void apply_threads(const std::optional<int64_t>& threads) {
  if (threads) at::set_num_threads(static_cast<int>(*threads));
}

}  // namespace mlspeed::cli
