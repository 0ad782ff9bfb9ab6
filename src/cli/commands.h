// The subcommands. Each returns the process exit status: 0 success, 1 a failure the user should
// know about (see each command), 2 bad input (thrown as UsageError and reported by the app).
#pragma once

#include <optional>
#include <string>

#include "cli/options.h"

namespace CLI {
class App;
}

namespace mlspeed::cli {

// The options of `mlspeed generate` as typed; generate_command validates them.
struct GenerateOptions {
  std::string workload = "gpt2-generate";
  std::string size = "full";
  std::string device = "cpu";
  std::string dtype = "fp32";
  std::string weights;  // empty: random weights from the seed
  std::string seed = "0";
  std::string vocab;    // a folder with GPT-2's encoder.json and vocab.bpe
  std::optional<std::string> prompt;  // text (needs vocab)
  std::optional<std::string> ids;     // comma-separated token ids
  std::string new_tokens = "16";
  std::string format = "md";  // md, json
};

// The options of `mlspeed verify` as typed; verify_command validates them.
struct VerifyOptions {
  std::string devices = "all";
  std::string levels = "op,model";
  bool quick = false;
  std::string ops, layouts, dtypes, size_classes;  // op level; empty: every one (size classes: small,boundary)
  std::string workloads;                            // model level; empty: the whole catalogue
  std::string model_size = "tiny";
  std::string model_dtypes = "fp32";
  std::string steps = "20";
  std::string seed = "0";
  std::string weights, vocab;  // the "The rain in Spain" text check on real GPT-2 weights
  std::string fault;           // --inject-fault: the self-test
  bool strict = false;         // known LibTorch issues fail the verdict too
  bool deterministic = false;  // deterministic algorithms (and cuBLAS workspace config) for the run
  bool full_precision_reductions = false;  // cuBLAS sums float16/bfloat16 products in float32
  bool list = false;
  std::string format = "md";
  std::string db;
  bool no_db = false;
};

int devices_command(bool json);
int workloads_command(bool json);
// 1 if any row ended in `error`, 130 if interrupted; oom/unsupported rows are results, not failures.
int run_command(const RunOptions& options, const std::string& command_line);
// `run` is a run id or "last".
int show_command(const std::string& run, const std::string& format, const std::string& db_path);
// Declares `generate` and its options on `app`; `options` is filled when it is parsed.
CLI::App* add_generate_command(CLI::App& app, GenerateOptions& options);
// 2 for bad input or a bad vocabulary/weights file, 1 if the device failed to run the model.
int generate_command(const GenerateOptions& options);

// Declares `verify` and its options on `app`; `options` is filled when it is parsed.
CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options);
// 0 when every check passed (skips and not-tested checks are listed, not failures), 1 when any
// check failed or errored, 2 for bad input, 130 when interrupted (completed checks are kept).
int verify_command(const VerifyOptions& options, const std::string& command_line);

int run_app(int argc, char** argv);

}  // namespace mlspeed::cli
