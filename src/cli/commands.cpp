// The registry: every command once, with its description, exit statuses, option table and
// function. `mlspeed --help` lists them in this order.
#include "cli/command.h"
#include "cli/commands.h"

namespace mlspeed::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> registry = {
      make_command("devices", "every device LibTorch can reach, with hardware and software facts", "",
                   listing_option_table(), parse_listing_options, devices_command),
      make_command("workloads", "the workload catalogue with parameter counts and FLOPs", "", listing_option_table(),
                   parse_listing_options, workloads_command),
      make_command("run", "time workloads x devices x dtypes x batch sizes (comma lists; the run is their product)",
                   "Exit status: 0 when every configuration was measured or failed as oom/unsupported, 1 if any "
                   "ended in error, 2 for bad input, 130 when interrupted (completed rows are kept).",
                   run_option_table(), parse_run_options, run_command),
      make_command("generate",
                   "greedy generation from a prompt (token ids, text with GPT-2's vocabulary, or a GGUF model's own; "
                   "--questions: mac-ml-speed-test's llama.cpp test): the \"!!!!\" check of the M3 Max review",
                   "Exit status: 0 when generated (warnings included), 2 for bad input or a bad file, 1 if the "
                   "device failed, 130 when interrupted (completed generations are kept).",
                   generate_option_table(), parse_generate_options, generate_command),
      make_command("quantize",
                   "write a Llama GGUF file in another type (llama-quantize: q4_0, q8_0, q4_k_m, q6_k, f16...), a "
                   "Hugging Face Llama checkpoint folder as one (convert_hf_to_gguf.py + llama-quantize), or random "
                   "weights of a model size as one, for `run --model`",
                   "Exit status: 0 when written, 2 for bad input or a file that cannot be read or written.",
                   quantize_option_table(), parse_quantize_options, quantize_command),
      make_command("verify",
                   "check every device's numbers against a float64 CPU reference: ops in every layout, dtype and "
                   "size class, and every workload's forward, gradients, training and generation",
                   "Exit status: 0 when every check passed (skipped, not-tested and known-issue checks are "
                   "reported, not failures, unless --strict), 1 when any check failed or errored, 2 for bad input, "
                   "130 when interrupted (completed checks are kept).",
                   verify_option_table(), parse_verify_options, verify_command),
      make_command("show", "print a run: stored here, an exported file or a reference set", "", show_option_table(),
                   parse_show_options, show_command),
      make_command("history", "the stored runs, newest first, with the ids and labels that compare, show and export take",
                   "Exit status: 0 (also when no run matches), 2 for bad input.", history_option_table(),
                   parse_history_options, history_command),
      make_command("export",
                   "write one run (its record, full context and rows) as a JSON file to compare or import elsewhere",
                   "Exit status: 0 when written, 2 for bad input or an unknown run.", export_option_table(),
                   parse_export_options, export_command),
      make_command("import",
                   "store a run exported on another machine (or `show -o json|jsonl` output) in the results "
                   "database, keeping its context",
                   "Exit status: 0 when stored (the new run id is printed), 2 for bad input.", import_option_table(),
                   parse_import_options, import_command),
      make_command("compare",
                   "runs side by side (ids, last, label:NAME, exported files, ref:NAME published figures), or the "
                   "devices of one run: medians, speedups and a verdict from the samples (Mann-Whitney U test and a "
                   "minimum effect)",
                   "Exit status: 0 when compared, 1 with --fail-if-slower PCT when any configuration is slower "
                   "beyond noise by more than PCT percent, 2 for bad input.",
                   compare_option_table(), parse_compare_options, compare_command),
      make_command("report",
                   "runs side by side as a page of charts (--output report.html, opens offline) or a markdown "
                   "summary (--output summary.md)",
                   "Exit status: 0 when the report was written, 2 for bad input.", report_option_table(),
                   parse_report_options, report_command),
  };
  return registry;
}

}  // namespace mlspeed::cli
