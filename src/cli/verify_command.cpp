// `mlspeed verify`: every device against the float64 CPU reference, op level and model level;
// rows printed as they complete and stored next to the speed results, then a verdict per device.
#include <unistd.h>

#include <ATen/Context.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/results/row_store.h"
#include "mlspeed/verify/check_printers.h"
#include "mlspeed/verify/faults.h"
#include "mlspeed/verify/known_issues.h"
#include "mlspeed/verify/model_checks.h"
#include "mlspeed/verify/op_suite.h"
#include "mlspeed/verify/verdict.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

using verify::CheckResult;

struct Plan {
  std::vector<verify::Target> targets;
  bool op_level = false, model_level = false;
  verify::OpSuiteOptions ops;
  verify::ModelCheckOptions models;
  Format format = Format::md;
};

// Everything a user can get wrong is checked here, before anything runs or is stored.
Plan make_plan(const VerifyOptions& o) {
  Plan plan;
  plan.format = *parse_format(std::string(parse_choices(o.format, "--format", format_names()).front()));
  for (const auto& level : parse_choices(o.levels, "--level", {"op", "model"}))
    (level == "op" ? plan.op_level : plan.model_level) = true;
  const uint64_t seed = static_cast<uint64_t>(parse_nonnegative_int(o.seed, "--seed"));

  auto list_or_empty = [](const std::string& text, const char* option) {
    return text.empty() ? std::vector<std::string>{} : split_list(text, option);
  };
  plan.ops.ops = list_or_empty(o.ops, "--ops");
  plan.ops.layouts = list_or_empty(o.layouts, "--layouts");
  plan.ops.dtypes = list_or_empty(o.dtypes, "--dtypes");
  plan.ops.size_classes = list_or_empty(o.size_classes, "--size-classes");
  plan.ops.quick = o.quick;
  plan.ops.seed = seed;
  verify::validate(plan.ops);

  plan.models.workloads = list_or_empty(o.workloads, "--workloads");
  plan.models.size = o.model_size;
  plan.models.precisions.clear();
  std::vector<std::string> precision_names;
  for (Precision p : kAllPrecisions) precision_names.emplace_back(name(p));
  for (const auto& p : parse_choices(o.model_dtypes, "--model-dtypes", precision_names))
    plan.models.precisions.push_back(*parse_precision(p));
  plan.models.training_steps = parse_positive_int(o.steps, "--steps");
  plan.models.seed = seed;
  plan.models.weights = o.weights;
  plan.models.vocab = o.vocab;
  verify::validate(plan.models);

  for (const DeviceFacts& device :
       select_devices(split_list(o.devices, "--devices"), discover_devices(/*measure_cpu_peak=*/false)))
    plan.targets.push_back(verify::make_target(device, o.fault));
  return plan;
}

// The process-wide precision flags the options ask for, before anything runs (rows record them).
void apply_flags(const VerifyOptions& o) {
  if (o.deterministic) {
    // cuBLAS is deterministic only with a fixed workspace configuration, read when its handle is
    // made (at the first product on each GPU, after this). A user's own setting is kept.
    setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
    at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  if (o.full_precision_reductions) compat::set_reduced_precision_reductions(false);
}

void print_lists() {
  std::cout << "Ops (--ops):\n";
  for (const auto& op : verify::op_catalogue()) std::cout << "  " << op.name << ": " << op.summary << "\n";
  std::cout << "Layouts (--layouts): " << join(verify::layout_names(), ", ") << "\n";
  std::cout << "Dtypes (--dtypes): " << join(verify::dtype_names(), ", ") << "\n";
  std::cout << "Size classes (--size-classes): " << join(verify::size_class_names(), ", ")
            << " (default: small,boundary; huge needs several GiB)\n";
  std::cout << "Workloads (--workloads): " << join(workload_names(), ", ") << "\n";
  std::cout << "Faults (--inject-fault, the self-test: the verifier must catch each):\n";
  for (const auto& f : verify::faults())
    std::cout << "  " << f.name << " [" << name(f.bug_class) << ", docs/silent-bugs.md " << f.bugs_id
              << "]: " << f.description << "\n";
  std::cout << "Known LibTorch issues (outcome known-issue; they fail the verdict only with --strict):\n";
  for (const auto& issue : verify::known_issues())
    std::cout << "  " << issue.id << " [" << issue.device_kind << ", " << versions(issue) << "]: " << issue.summary
              << "; " << issue.reference << "\n";
}

// The self-test's own verdict: whether the checks meant to catch the injected fault failed.
std::string self_test_line(const std::string& fault_name, const std::vector<CheckResult>& rows) {
  const verify::Fault* fault = verify::find_fault(fault_name);
  int64_t caught = 0, failing = 0;
  for (const CheckResult& row : rows) {
    const bool failed = row.outcome == verify::Outcome::fail || row.outcome == verify::Outcome::error;
    failing += failed;
    caught += failed && fault && row.check == fault->caught_by_check && row.pass == fault->caught_by_pass;
  }
  std::string line = "\nself-test: the injected fault " + fault_name;
  if (fault) line += " (" + fault->description + ")";
  if (caught > 0)
    return line + " was caught: " + std::to_string(caught) + " failing " + fault->caught_by_check + " " +
           fault->caught_by_pass + (caught == 1 ? " check" : " checks") + "\n";
  return line + " was NOT caught by the " + (fault ? fault->caught_by_check + " " + fault->caught_by_pass : "") +
         " checks (" + std::to_string(failing) + " checks failed elsewhere): the verifier missed it\n";
}

// One live line on a terminal: the device, how many checks ran and failed, the current one.
class ProgressLine {
 public:
  explicit ProgressLine(bool terminal) : terminal_(terminal) {}
  void update(const CheckResult& row, int64_t done, int64_t failed) {
    if (!terminal_) return;
    std::cerr << "\r\033[K" << row.device << ": " << done << " checks, " << failed << " failed - " << row.check << " "
              << row.dtype << " " << row.layout << " " << row.pass << std::flush;
  }
  void clear() {
    if (terminal_) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  bool terminal_;
};

}  // namespace

CLI::App* add_verify_command(CLI::App& app, VerifyOptions& o) {
  CLI::App* v = app.add_subcommand(
      "verify", "check every device's numbers against a float64 CPU reference: ops in every layout, dtype and "
                "size class, and every workload's forward, gradients, training and generation");
  v->add_option("-d,--devices", o.devices, "devices to verify: all, cpu, cuda, cuda:N, mps [default: all]")
      ->type_name("LIST");
  v->add_option("--level", o.levels, "op, model or both [default: op,model]")->type_name("LIST");
  v->add_flag("--quick", o.quick,
              "the quick subset: ops in contiguous and transposed layouts, small sizes, float32/bfloat16/int64");
  v->add_option("--ops", o.ops, "ops to check (see --list) [default: all]")->type_name("LIST");
  v->add_option("--layouts", o.layouts, "layouts (see --list) [default: all]")->type_name("LIST");
  v->add_option("--dtypes", o.dtypes, "op dtypes (see --list) [default: every dtype each op supports]")
      ->type_name("LIST");
  v->add_option("--size-classes", o.size_classes, "small, boundary, huge [default: small,boundary]")
      ->type_name("LIST");
  v->add_option("-w,--workloads", o.workloads, "workloads for the model level [default: all]")->type_name("LIST");
  v->add_option("--model-size", o.model_size, "workload size for the model level [default: tiny]")
      ->type_name("SIZE");
  v->add_option("--model-dtypes", o.model_dtypes, "precisions for the model level: fp32, tf32, fp16, bf16 [default: fp32]")
      ->type_name("LIST");
  v->add_option("--steps", o.steps, "training steps compared with the CPU (at least 20) [default: 20]")
      ->type_name("N");
  v->add_option("--seed", o.seed, "seed of inputs and weights [default: 0]")->type_name("N");
  v->add_option("--weights", o.weights,
                "GPT-2 weights (.safetensors) for the \"The rain in Spain\" text check, with --vocab")
      ->type_name("FILE");
  v->add_option("--vocab", o.vocab, "a folder with GPT-2's encoder.json and vocab.bpe")->type_name("DIR");
  v->add_option("--inject-fault", o.fault,
                "self-test: inject a known bug into the device under test (see --list); verify must fail")
      ->type_name("NAME")
      ->each([](const std::string& name) {
        if (name.empty()) throw UsageError("--inject-fault: the fault name is empty; `mlspeed verify --list` names them");
      });
  v->add_flag("--deterministic", o.deterministic,
              "deterministic algorithms only (torch.use_deterministic_algorithms; ops without one are skipped, "
              "with the reason), cuDNN benchmark off");
  v->add_flag("--full-precision-reductions", o.full_precision_reductions,
              "cuBLAS sums float16 and bfloat16 matrix products in float32 (turns off PyTorch's "
              "allow_fp16/bf16_reduced_precision_reduction, on by default)");
  v->add_flag("--strict", o.strict,
              "known LibTorch issues (bugs of LibTorch itself, listed by --list with their upstream reports) fail "
              "the verdict too; by default they are shown but do not");
  v->add_flag("--list", o.list, "list the ops, layouts, dtypes, size classes, workloads and faults, and exit");
  v->add_option("-o,--format", o.format, "output: md, json, jsonl, csv [default: md]")->type_name("FORMAT");
  v->add_option("--db", o.db, "results database file [default: " + run_option("db").default_text + "]")
      ->type_name("FILE");
  v->add_flag("--no-db", o.no_db, "do not store the checks");
  v->footer("Exit status: 0 when every check passed (skipped, not-tested and known-issue checks are reported, not "
            "failures, unless --strict), 1 when any check failed or errored, 2 for bad input, 130 when interrupted "
            "(completed checks are kept).");
  return v;
}

int verify_command(const VerifyOptions& options, const std::string& command_line) {
  if (options.list) {
    print_lists();
    return 0;
  }
  const Plan plan = make_plan(options);
  apply_flags(options);
  std::unique_ptr<Database> db;
  if (!options.no_db) db = std::make_unique<Database>(options.db.empty() ? Database::default_path() : options.db);

  RunContext context;
  context.started_at = now_iso8601();
  context.command = command_line;
  context.host = collect_host_facts();
  for (const auto& target : plan.targets) context.devices.push_back(target.facts);
  capture_precision_flags(context);

  auto printer = verify::make_check_printer(plan.format, std::cout, options.strict);
  if (plan.format == Format::md) std::cout << describe_context(context) << "\n";
  printer->header();
  std::cout.flush();
  const int64_t run_id = db ? db->begin_run(context) : 0;

  std::vector<CheckResult> rows;
  int64_t failed = 0;
  RowStore<CheckResult> store([&](CheckResult& row) { db->add_check(run_id, row); });
  ProgressLine progress(isatty(STDERR_FILENO));
  InterruptScope interrupt("the current check");
  struct Interrupted {};
  bool interrupted = false;
  for (const verify::Target& target : plan.targets) {
    auto on_row = [&](const CheckResult& checked) {
      CheckResult row = checked;
      row.timestamp = now_iso8601();
      row.device = target.facts.id;
      row.device_facts = target.facts;
      row.host = context.host;
      row.fault = options.fault;
      verify::label_known_issue(row);
      if (row.outcome == verify::Outcome::fail || row.outcome == verify::Outcome::error) ++failed;
      if (db) {
        row.run_id = run_id;
        store.add(row);  // a row the database refuses now is retried before the next one
      }
      progress.clear();
      printer->row(row);
      std::cout.flush();
      rows.push_back(std::move(row));
      progress.update(rows.back(), static_cast<int64_t>(rows.size()), failed);
      if (InterruptScope::requested()) throw Interrupted{};
    };
    try {
      if (plan.op_level) verify::run_op_suite(target, plan.ops, on_row);
      if (plan.model_level) verify::run_model_checks(target, plan.models, on_row);
    } catch (const Interrupted&) {
      interrupted = true;
      break;
    }
  }
  progress.clear();
  store.flush();
  std::string finish_error;
  try {
    if (db) db->finish_run(run_id, interrupted ? "interrupted" : "complete");
  } catch (const std::exception& e) {
    finish_error = e.what();
  }
  printer->footer(!interrupted);
  std::cout.flush();

  const auto verdicts = verify::summarise(rows);
  if (plan.format != Format::md) print_verdict(std::cerr, verdicts, !interrupted, options.strict);  // md: footer
  if (!options.fault.empty()) (plan.format == Format::md ? std::cout : std::cerr) << self_test_line(options.fault, rows);
  const bool all_stored = store.pending().empty();
  if (!all_stored)
    std::cerr << "mlspeed verify: " << store.pending().size() << " checks (printed above) could not be stored in "
              << db->path() << ": " << store.last_error() << "\n";
  else if (store.refusals() > 0)
    std::cerr << "mlspeed verify: the database refused " << store.refusals() << " writes (" << store.last_error()
              << "); every check was stored on a retry\n";
  if (!finish_error.empty())
    std::cerr << "mlspeed verify: the run's status could not be recorded: " << finish_error << "\n";
  if (db && all_stored)
    std::cerr << "mlspeed verify: stored run " << run_id << " (" << store.stored() << " checks) in " << db->path()
              << "\n";
  if (interrupted) {
    std::cerr << "mlspeed verify: interrupted after " << rows.size() << " checks; the verdict above covers those only";
    if (db) std::cerr << "; kept them in " << db->path() << " (run " << run_id << ")";
    std::cerr << "\n";
    return 130;
  }
  for (const auto& v : verdicts)
    if (!v.ok(options.strict)) return 1;
  return all_stored ? 0 : 1;
}

}  // namespace mlspeed::cli
