// The options of `mlspeed run`, each declared once in its table (option_table.h) with its help
// text and default. Parsing a value validates it; bad input is a UsageError.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/option_table.h"
#include "mlspeed/core/kernel_set.h"
#include "mlspeed/core/precision.h"
#include "mlspeed/core/weight_format.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

struct RunOptions {
  std::vector<std::string> workloads;
  std::vector<std::string> devices;  // ids as typed; checked against the machine later
  std::vector<Precision> dtypes;
  std::vector<ModelFormat> weight_formats;  // empty: each model's own storage
  std::vector<std::string> sizes;
  std::vector<int64_t> batches;  // empty: each workload's defaults
  std::vector<int64_t> seqs;     // empty: each workload's defaults
  std::vector<int64_t> new_tokens;  // empty: each workload's defaults
  std::vector<int64_t> depths;      // --depth; empty: 0 (an empty KV cache)
  int64_t repetitions = 1;
  int64_t warmup = 1;
  std::optional<int64_t> iterations;  // empty: time for min_time seconds instead
  double min_time = 2.0;
  Format format = Format::md;
  bool wide = false;   // --wide: the md table with every column
  std::string db;      // empty: the default path
  bool no_db = false;
  std::string label;   // --label: the user's name for the stored run; empty for none
  uint64_t seed = 0;
  std::optional<int64_t> threads;  // empty: LibTorch's own default
  std::vector<std::string> models;  // --model: GGUF files, each a workload of its own
  std::string weights;             // empty: random weights
  std::string data;                // empty: synthetic data
  bool graphs = true;              // CUDA graphs on CUDA devices (--graphs on|off)
  bool energy = true;              // energy, clocks and throttling over the timed iterations (--energy on|off)
  KernelSet kernels = KernelSet::mlspeed;  // --kernels mlspeed|libtorch
  std::string profile;             // folder for --profile's traces; empty: no profiling
  int64_t ddp = 0;                 // --ddp N: each training configuration also on N devices; 0: not
};

const OptionTable<RunOptions>& run_option_table();

// `given` maps long names to the text typed; every other option takes its default.
// Also refuses options that contradict each other (-n with --min-time).
RunOptions parse_run_options(const Given& given);

// Sets LibTorch's intra-op threads when `threads` is given. The default is left alone on
// purpose: Debian's LibTorch 1.13 picks 1 thread, and forcing one per core there makes its
// OpenMP pool fight OpenBLAS's own threads (BERT 1x128 on a 2-core VM: 146 ms -> 542 ms).
void apply_threads(const std::optional<int64_t>& threads);

}  // namespace mlspeed::cli
