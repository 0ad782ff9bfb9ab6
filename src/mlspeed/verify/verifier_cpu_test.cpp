// The verify loop runs in the library, without the binary: each check is completed into a row
// with where and when it ran, and the loop stops between checks when asked.
#include "mlspeed/verify/verifier.h"

#include <gtest/gtest.h>

#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"
#include "mlspeed/verify/faults.h"

namespace mlspeed::verify {
namespace {

VerifyPlan softmax_on_cpu(const std::string& fault = "") {
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  VerifyPlan plan;
  plan.targets = {make_target(cpu, fault)};
  plan.model_level = false;
  plan.ops.ops = {"softmax"};
  plan.ops.quick = true;
  plan.fault = fault;
  return plan;
}

RunContext context() {
  RunContext c;
  c.host = collect_host_facts();
  return c;
}

TEST(Verifier, CompletesEachRowWithWhereAndWhenItRan) {
  std::atomic<bool> stop{false};
  std::vector<CheckResult> rows;
  const bool complete =
      run_verification(softmax_on_cpu(), context(), stop, [&](CheckResult& row) { rows.push_back(row); });
  EXPECT_TRUE(complete);
  ASSERT_GT(rows.size(), 1u);
  for (const CheckResult& row : rows) {
    EXPECT_EQ(row.check, "softmax");
    EXPECT_EQ(row.device, "cpu");
    EXPECT_EQ(row.device_facts.kind, "cpu");
    EXPECT_FALSE(row.timestamp.empty());
    EXPECT_EQ(row.host.hostname, collect_host_facts().hostname);
    EXPECT_FALSE(is_failure(row, /*strict=*/true)) << row.message;
  }
}

TEST(Verifier, StopsBetweenChecksWhenAsked) {
  std::atomic<bool> stop{false};
  int64_t seen = 0;
  const bool complete = run_verification(softmax_on_cpu(), context(), stop, [&](CheckResult&) {
    ++seen;
    stop = true;  // as Ctrl-C sets it
  });
  EXPECT_FALSE(complete);
  EXPECT_EQ(seen, 1);
}

TEST(Verifier, KnownIssuesFailOnlyWhenStrictAndTheSelfTestSaysWhatItCaught) {
  CheckResult known;
  known.outcome = Outcome::known_issue;
  EXPECT_FALSE(is_failure(known, false));
  EXPECT_TRUE(is_failure(known, true));
  CheckResult error;
  error.outcome = Outcome::error;
  EXPECT_TRUE(is_failure(error, false));

  const Fault& fault = faults().front();
  CheckResult caught;
  caught.outcome = Outcome::fail;
  caught.check = fault.caught_by_check;
  caught.pass = fault.caught_by_pass;
  EXPECT_NE(self_test_line(fault.name, {caught}).find("was caught: 1 failing"), std::string::npos);
  EXPECT_NE(self_test_line(fault.name, {}).find("was NOT caught"), std::string::npos);

  // A training fault names no workload: any model's failing training row catches it.
  const Fault* training = find_fault("optimizer-update-dropped");
  ASSERT_TRUE(training && training->caught_by_check.empty());
  CheckResult curve;
  curve.outcome = Outcome::fail;
  curve.check = "gpt2-train";
  curve.pass = "training";
  EXPECT_NE(self_test_line(training->name, {curve}).find("was caught: 1 failing training check"), std::string::npos);
  curve.pass = "forward";
  EXPECT_NE(self_test_line(training->name, {curve}).find("was NOT caught by the training checks"), std::string::npos);

  // A healthy perturbation must fail nothing: a failing row is a false alarm, not a catch.
  const Fault* healthy = find_fault("rounding-jitter");
  ASSERT_TRUE(healthy && healthy->healthy);
  CheckResult passed;
  passed.outcome = Outcome::pass;
  EXPECT_NE(self_test_line(healthy->name, {passed}).find("passed every check: no false alarm"), std::string::npos);
  EXPECT_NE(self_test_line(healthy->name, {passed, curve}).find("failed 1 check: false alarms"), std::string::npos);
}

}  // namespace
}  // namespace mlspeed::verify
