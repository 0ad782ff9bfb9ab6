#include "mlspeed/verify/verifier.h"

#include "mlspeed/core/text.h"
#include "mlspeed/verify/faults.h"
#include "mlspeed/verify/known_issues.h"

namespace mlspeed::verify {
namespace {

// The suites hand rows to a callback and have no way to stop in the middle; this unwinds them
// from inside the callback, between two checks, and never leaves run_verification.
struct Stopped {};

}  // namespace

bool run_verification(const VerifyPlan& plan, const RunContext& context, const std::atomic<bool>& stop,
                      const std::function<void(CheckResult&)>& on_row) {
  for (const Target& target : plan.targets) {
    auto complete = [&](const CheckResult& checked) {
      CheckResult row = checked;
      row.timestamp = now_iso8601();
      row.device = target.facts.id;
      row.device_facts = target.facts;
      row.host = context.host;
      row.fault = plan.fault;
      label_known_issue(row);
      on_row(row);
      if (stop) throw Stopped{};
    };
    try {
      if (plan.op_level) run_op_suite(target, plan.ops, complete);
      if (plan.model_level) run_model_checks(target, plan.models, complete);
    } catch (const Stopped&) {
      return false;
    }
  }
  return true;
}

bool is_failure(const CheckResult& row, bool strict) {
  return row.outcome == Outcome::fail || row.outcome == Outcome::error ||
         (strict && row.outcome == Outcome::known_issue);
}

std::string progress_text(const CheckResult& row, int64_t done, int64_t failed) {
  return row.device + ": " + std::to_string(done) + " checks, " + std::to_string(failed) + " failed - " + row.check +
         " " + row.dtype + " " + row.layout + " " + row.pass;
}

namespace {

// A healthy perturbation (Fault::healthy) must fail nothing: any failing check is a false alarm.
std::string healthy_self_test_line(const Fault& fault, const std::vector<CheckResult>& rows) {
  int64_t failing = 0;
  for (const CheckResult& row : rows) failing += row.outcome == Outcome::fail || row.outcome == Outcome::error;
  const std::string line = "\nself-test: the injected perturbation " + fault.name + " (" + fault.description + ")";
  if (failing == 0) return line + " passed every check: no false alarm\n";
  return line + " failed " + std::to_string(failing) + (failing == 1 ? " check" : " checks") +
         ": false alarms on a healthy device\n";
}

}  // namespace

std::string self_test_line(const std::string& fault_name, const std::vector<CheckResult>& rows) {
  const Fault* fault = find_fault(fault_name);
  if (fault && fault->healthy) return healthy_self_test_line(*fault, rows);
  int64_t caught = 0, failing = 0;
  for (const CheckResult& row : rows) {
    const bool failed = row.outcome == Outcome::fail || row.outcome == Outcome::error;
    failing += failed;
    // An empty check: the pass of any workload (a training fault, caught by each model's training row).
    caught += failed && fault && (fault->caught_by_check.empty() || row.check == fault->caught_by_check) &&
              row.pass == fault->caught_by_pass;
  }
  std::string line = "\nself-test: the injected fault " + fault_name;
  if (fault) line += " (" + fault->description + ")";
  const std::string checks =
      fault ? (fault->caught_by_check.empty() ? "" : fault->caught_by_check + " ") + fault->caught_by_pass : "";
  if (caught > 0)
    return line + " was caught: " + std::to_string(caught) + " failing " + checks + (caught == 1 ? " check" : " checks") +
           "\n";
  return line + " was NOT caught by the " + checks + " checks (" + std::to_string(failing) +
         " checks failed elsewhere): the verifier missed it\n";
}

}  // namespace mlspeed::verify
