// `mlspeed verify`: every device against the float64 CPU reference, op level and model level;
// rows printed as they complete and stored next to the speed results, then a verdict per device.
// The loop is the library's (verify/verifier.h), the rest the session every command shares.
#include <ATen/Context.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/kernel_set.h"
#include "mlspeed/core/live_line.h"
#include "mlspeed/core/text.h"
#include "mlspeed/session/run_session.h"
#include "mlspeed/verify/check_fields.h"
#include "mlspeed/verify/check_printers.h"
#include "mlspeed/verify/faults.h"
#include "mlspeed/verify/known_issues.h"
#include "mlspeed/verify/verdict.h"
#include "mlspeed/verify/verifier.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

using verify::CheckResult;

// Everything a user can get wrong is checked here, before anything runs or is stored.
verify::VerifyPlan make_plan(const VerifyOptions& o) {
  verify::VerifyPlan plan;
  plan.op_level = o.op_level;
  plan.model_level = o.model_level;
  plan.ops = o.ops;
  verify::validate(plan.ops);
  plan.models = o.models;
  verify::validate(plan.models);
  plan.fault = o.fault;
  for (const DeviceFacts& device :
       select_devices(o.devices, discover_devices(/*measure_cpu_peak=*/false)))
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
  std::cout << "Dtypes (--dtypes): " << join(verify::dtype_names(), ", ") << " (also read: ";
  for (const auto& [alias, dtype] : verify::dtype_aliases())
    std::cout << alias << " = " << dtype << (&alias == &verify::dtype_aliases().back().first ? ")\n" : ", ");
  std::cout << "Size classes (--size-classes): " << join(verify::size_class_names(), ", ")
            << " (default: " << join(verify::default_size_classes(), ",") << "; huge needs several GiB)\n";
  std::cout << "Workloads (--workloads): " << join(workload_names(), ", ") << "\n";
  std::cout << "Faults (--inject-fault, the self-test: the verifier must catch each):\n";
  for (const auto& f : verify::faults())
    if (!f.healthy)
      std::cout << "  " << f.name << " [" << name(f.bug_class) << ", docs/silent-bugs.md " << f.bugs_id
                << "]: " << f.description << "\n";
  std::cout << "Healthy perturbations (--inject-fault too: the verifier must pass each, no false alarm):\n";
  for (const auto& f : verify::faults())
    if (f.healthy) std::cout << "  " << f.name << ": " << f.description << "\n";
  std::cout << "Known LibTorch issues (outcome known-issue; they fail the verdict only with --strict):\n";
  for (const auto& issue : verify::known_issues())
    std::cout << "  " << issue.id << " [" << issue.device_kind << ", " << versions(issue) << "]: " << issue.summary
              << "; " << issue.reference << "\n";
}

}  // namespace

int verify_command(const VerifyOptions& options, const std::string& command_line) {
  if (options.list) {
    print_lists();
    return 0;
  }
  const verify::VerifyPlan plan = make_plan(options);
  apply_flags(options);
  std::vector<DeviceFacts> devices;
  for (const auto& target : plan.targets) devices.push_back(target.facts);
  const SessionSetup setup{"mlspeed verify", !options.no_db, options.db, "the current check", 0, "", options.label};
  const bool strict = options.strict;
  const KernelSetScope kernels(options.kernels);  // whose kernels every check runs
  RunContext context = capture_context(command_line, devices);
  context.kernels = options.kernels;
  RunSession<CheckResult> session(setup, context,
                                  verify::make_check_printer(options.format, std::cout, strict),
                                  [strict](const CheckResult& row) { return verify::is_failure(row, strict); });
  session.begin();

  const bool completed = verify::run_verification(plan, session.context(), session.stop_flag(), [&](CheckResult& row) {
    session.add(row);
    const auto done = static_cast<int64_t>(session.rows().size());
    LiveLine::on_stderr().show(verify::progress_text(row, done, session.failures()));
  });
  const int status = session.finish(completed ? RunEnd::complete : RunEnd::interrupted);

  // md prints the verdict in its footer; the machine formats are rows only, so it goes to stderr.
  if (options.format != Format::md) print_verdict(std::cerr, verify::summarise(session.rows()), completed, strict);
  if (!options.fault.empty())
    (options.format == Format::md ? std::cout : std::cerr) << verify::self_test_line(options.fault, session.rows());
  return status;
}

}  // namespace mlspeed::cli
