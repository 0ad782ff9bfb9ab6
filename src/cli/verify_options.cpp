#include "cli/verify_options.h"

#include "cli/option_values.h"
#include "cli/shared_options.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"

namespace mlspeed::cli {
namespace {

OptionTable<VerifyOptions> verify_table() {
  using O = VerifyOptions;
  using T = const std::string&;
  return {
      {"-d,--devices", "LIST", "devices to verify: all, cpu, cuda, cuda:N, mps", "all", "",
       [](O& o, T t) { o.devices = split_list(t, "--devices"); }},
      {"--level", "LIST", "op, model or both", "op,model", "",
       [](O& o, T t) {
         o.op_level = o.model_level = false;
         for (const auto& level : parse_choices(t, "--level", {"op", "model"}))
           (level == "op" ? o.op_level : o.model_level) = true;
       }},
      {"--quick", "", "the quick subset: ops in contiguous and transposed layouts, small sizes and a slice of the "
                      "medium ones, fp32/bf16/int64", std::nullopt, "", [](O& o, T) { o.ops.quick = true; }},
      {"--ops", "LIST", "ops to check (see --list)", std::nullopt, "all",
       [](O& o, T t) { o.ops.ops = split_list(t, "--ops"); }},
      {"--layouts", "LIST", "layouts (see --list)", std::nullopt, "all",
       [](O& o, T t) { o.ops.layouts = split_list(t, "--layouts"); }},
      {"--dtypes", "LIST", "op dtypes: fp32, tf32, fp16, bf16, fp64 and the integer types (see --list; float32, "
                           "float16, bfloat16, ... are read as the short names)",
       std::nullopt, "every dtype each op supports",
       [](O& o, T t) { o.ops.dtypes = split_list(t, "--dtypes"); }},
      {"--size-classes", "LIST", "size classes (see --list)", std::nullopt, "the default classes --list names",
       [](O& o, T t) { o.ops.size_classes = split_list(t, "--size-classes"); }},
      {"-w,--workloads", "LIST", "workloads for the model level", std::nullopt, "all",
       [](O& o, T t) { o.models.workloads = split_list(t, "--workloads"); }},
      {"--model-size", "SIZE", "workload size for the model level", "tiny", "",
       [](O& o, T t) { o.models.size = t; }},
      {"--model-dtypes", "LIST", "precisions for the model level: fp32, tf32, fp16, bf16", "fp32", "",
       [](O& o, T t) { o.models.precisions = parse_precisions(t, "--model-dtypes"); }},
      {"--model-weight-formats", "LIST",
       "quantised weight formats of the model level's quantised-Llama check (with llama2-7b-generate): q8_0, q4_0, "
       "q4_k_m, q6_k, or none",
       "q8_0,q4_0,q4_k_m,q6_k", "",
       [](O& o, T t) {
         o.models.weight_formats = t == "none" ? std::vector<ModelFormat>{}
                                               : parse_model_formats(t, "--model-weight-formats");
       }},
      {"--steps", "N", "training steps compared with the CPU (20 to 10000)", "20", "",
       [](O& o, T t) { o.models.training_steps = parse_count(t, "--steps", 20); }},
      {"--seed", "N", "seed of inputs and weights", "0", "",
       [](O& o, T t) { o.ops.seed = o.models.seed = static_cast<uint64_t>(parse_nonnegative_int(t, "--seed")); }},
      {"--weights", "FILE", "GPT-2 weights (.safetensors) for the \"The rain in Spain\" text check, with --vocab",
       std::nullopt, "none", [](O& o, T t) { o.models.weights = existing_file(t, "--weights"); }},
      {"--vocab", "DIR", "a folder with GPT-2's encoder.json and vocab.bpe", std::nullopt, "none",
       [](O& o, T t) { o.models.vocab = existing_file(t, "--vocab", /*folder_too=*/true); }},
      {"--inject-fault", "NAME", "self-test: inject a known bug into the device under test (see --list); verify "
                                 "must fail (rounding-jitter, a healthy perturbation: verify must pass)", std::nullopt, "none",
       [](O& o, T t) {
         if (t.empty()) throw UsageError("--inject-fault: the fault name is empty; `mlspeed verify --list` names them");
         o.fault = t;
       }},
      {"--deterministic", "", "deterministic algorithms only (torch.use_deterministic_algorithms; ops without one "
                              "are skipped, with the reason), cuDNN benchmark off", std::nullopt, "",
       [](O& o, T) { o.deterministic = true; }},
      {"--full-precision-reductions", "", "cuBLAS sums float16 and bfloat16 matrix products in float32 (turns off "
                                          "PyTorch's allow_fp16/bf16_reduced_precision_reduction, on by default)",
       std::nullopt, "", [](O& o, T) { o.full_precision_reductions = true; }},
      kernels_option<O>(),
      {"--strict", "", "known LibTorch issues (bugs of LibTorch itself, listed by --list with their upstream "
                       "reports) fail the verdict too; by default they are shown but do not", std::nullopt, "",
       [](O& o, T) { o.strict = true; }},
      {"--list", "", "list the ops, layouts, dtypes, size classes, workloads and faults, and exit", std::nullopt, "",
       [](O& o, T) { o.list = true; }},
      format_option<O, Format::md, Format::json, Format::jsonl, Format::csv>(),
      db_option<O>(),
      no_db_option<O>("do not store the checks"),
      label_option<O>("a name for the stored run (\"driver 580\"), shown by `mlspeed history`", "none"),
  };
}

}  // namespace

const OptionTable<VerifyOptions>& verify_option_table() {
  static const OptionTable<VerifyOptions> table = verify_table();
  return table;
}

VerifyOptions parse_verify_options(const Given& given) {
  if (given.count("label") && given.count("no-db"))
    throw UsageError("--label names the stored run, and --no-db stores nothing; give one");
  return parse_options(verify_option_table(), given);
}

}  // namespace mlspeed::cli
