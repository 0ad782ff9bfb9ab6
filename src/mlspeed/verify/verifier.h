// The verify loop, in the library like the speed runner (bench/runner.h): every target through
// the op level and the model level, each check completed into a row (when, the device and host
// it ran on, the injected fault, the known LibTorch issue it matches) and handed on as it
// completes. `mlspeed verify` is this plus a RunSession; tests drive it without the binary.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "mlspeed/results/context.h"
#include "mlspeed/verify/check.h"
#include "mlspeed/verify/model_checks.h"
#include "mlspeed/verify/op_suite.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {

struct VerifyPlan {
  std::vector<Target> targets;
  bool op_level = true, model_level = true;
  OpSuiteOptions ops;
  ModelCheckOptions models;
  std::string fault;  // the fault injected into every target (the self-test); empty: none
};

// Runs the plan, handing each completed row to `on_row`. Polls `stop` after every check (Ctrl-C)
// and returns false when it stopped early, true when every planned check ran.
bool run_verification(const VerifyPlan& plan, const RunContext& context, const std::atomic<bool>& stop,
                      const std::function<void(CheckResult&)>& on_row);

// Whether a row fails the verdict: fail and error always, known-issue under --strict.
bool is_failure(const CheckResult& row, bool strict);

// The progress line: "cuda:0: 120 checks, 1 failed - softmax bf16 transposed forward".
std::string progress_text(const CheckResult& row, int64_t done, int64_t failed);

// The self-test's own verdict: whether the checks meant to catch the injected fault failed
// ("self-test: the injected fault ... was caught: ..." or "... was NOT caught ...").
std::string self_test_line(const std::string& fault_name, const std::vector<CheckResult>& rows);

}  // namespace mlspeed::verify
