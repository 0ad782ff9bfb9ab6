// The table of known LibTorch issues: which rows it labels (by LibTorch version, device and the
// failure's signature), and what the verdict says of them with and without --strict.
#include "mlspeed/verify/known_issues.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing/check_test_rows.h"
#include "mlspeed/verify/verdict.h"
#include "testing/text.h"

namespace mlspeed::verify {
namespace {

using ::mlspeed::testing::contains;

CheckResult on(CheckResult row, const std::string& kind, const std::string& torch_version) {
  row.device_facts.kind = kind;
  row.host.torch_version = torch_version;
  return row;
}

CheckResult conv_transpose(Outcome outcome, const std::string& message) {
  CheckResult row = testing::check_row("cpu", "conv_transpose2d", outcome, message);
  row.dtype = "bf16";
  row.pass = "forward";
  return on(row, "cpu", "1.13.0");
}

// Spelt as rows stored before the op level took the short dtype names: still recognised.
CheckResult norm_backward(const std::string& check, Outcome outcome, const std::string& message) {
  CheckResult row = testing::check_row("cpu", check, outcome, message);
  row.dtype = "bfloat16";
  row.pass = "backward";
  return on(row, "cpu", "2.11.0+cu130");
}

const std::string kChannels = "expected input[2, 4, 8, 9] to have 5 channels, but got 4 channels instead";

TEST(KnownIssues, AFailureWithTheSignatureOnAListedLibTorchIsLabelled) {
  CheckResult row = conv_transpose(Outcome::error, kChannels);
  label_known_issue(row);
  EXPECT_EQ(row.outcome, Outcome::known_issue);
  EXPECT_EQ(row.known_issue, "bf16-conv-transpose-cpu");

  CheckResult gelu = on(testing::check_row("cpu", "gelu", Outcome::fail, "100% of elements off"), "cpu", "2.11.0");
  gelu.layout = "out-strided";
  label_known_issue(gelu);
  EXPECT_EQ(gelu.known_issue, "gelu-out-transposed-cpu");

  CheckResult grad = norm_backward("group_norm", Outcome::fail, "gradient of float input 1: 12.5% of elements off");
  label_known_issue(grad);
  EXPECT_EQ(grad.outcome, Outcome::known_issue);
  EXPECT_EQ(grad.known_issue, "bf16-norm-weight-grad-cpu");
}

// The H200's own row (2026-11-30): bf16 multinomial under-draws the last category on CUDA only.
TEST(KnownIssues, CudaBf16MultinomialUnderDrawingIsLabelledOnCudaOnly) {
  auto multinomial = [](const std::string& kind, const std::string& variant) {
    CheckResult row = testing::check_row(kind == "cuda" ? "cuda:0" : "cpu", "multinomial", Outcome::fail,
                                         "row 0: 65536 draws over 16 categories, zero-probability ones never drawn; "
                                         "largest deviation -7.2 standard errors (category 15, 2446 drawn, 2818.4 "
                                         "expected); limit 6");
    row.dtype = "bf16";
    row.variant = variant;
    row.pass = "statistics";
    return on(row, kind, "2.11.0+cu130");
  };
  CheckResult gpu = multinomial("cuda", "with replacement");
  label_known_issue(gpu);
  EXPECT_EQ(gpu.outcome, Outcome::known_issue);
  EXPECT_EQ(gpu.known_issue, "bf16-multinomial-cdf-cuda");
  for (CheckResult other : {multinomial("cpu", "with replacement"), multinomial("cuda", "without replacement")}) {
    label_known_issue(other);
    EXPECT_EQ(other.outcome, Outcome::fail) << other.device << " " << other.variant;
  }
}

TEST(KnownIssues, EverythingElseStaysAFailure) {
  const std::vector<CheckResult> rows = {
      on(conv_transpose(Outcome::error, kChannels), "cpu", "2.11.0"),    // a version not listed
      on(conv_transpose(Outcome::error, kChannels), "cuda", "1.13.0"),   // another device
      conv_transpose(Outcome::error, "CUDA error: an illegal memory access"),  // another failure
      conv_transpose(Outcome::fail, "3.1% of elements off by up to 0.42"),     // a wrong number
      norm_backward("group_norm", Outcome::fail, "gradient of float input 0: 50% of elements off"),  // dX is covered
      norm_backward("softmax", Outcome::fail, "gradient of float input 1: off"),
      on(norm_backward("layer_norm", Outcome::fail, "gradient of float input 2: off"), "cpu", "garbage"),
  };
  for (CheckResult row : rows) {
    const Outcome before = row.outcome;
    label_known_issue(row);
    EXPECT_EQ(row.outcome, before) << row.check << " " << row.message << " " << row.host.torch_version;
    EXPECT_TRUE(row.known_issue.empty());
  }
  // A fault injected by the self-test is never excused as LibTorch's.
  CheckResult injected = conv_transpose(Outcome::error, kChannels);
  injected.fault = "transposed-view-ignored";
  label_known_issue(injected);
  EXPECT_EQ(injected.outcome, Outcome::error);
}

// Under a self-test, the checks the fault does not target are labelled as usual (so the verdict
// counts only what the fault did); the one it targets never is.
TEST(KnownIssues, AnInjectedFaultKeepsOnlyTheFailuresOfTheCheckItTargets) {
  CheckResult elsewhere = conv_transpose(Outcome::error, kChannels);
  elsewhere.fault = "softmax-nan-long-rows";
  label_known_issue(elsewhere);
  EXPECT_EQ(elsewhere.known_issue, "bf16-conv-transpose-cpu");

  CheckResult targeted = norm_backward("layer_norm", Outcome::fail, "gradient of float input 1: 12.5% of elements off");
  targeted.fault = "layer-norm-backward-zero-rows";
  label_known_issue(targeted);
  EXPECT_EQ(targeted.outcome, Outcome::fail);
  EXPECT_TRUE(targeted.known_issue.empty());
}

TEST(KnownIssues, VersionsAreMatchedByMajorAndMinor) {
  const KnownIssue& norm = *find_known_issue("bf16-norm-weight-grad-cpu");
  EXPECT_TRUE(applies(norm, "1.13.1", "cpu"));
  EXPECT_TRUE(applies(norm, "2.4.0", "cpu"));
  EXPECT_TRUE(applies(norm, "2.11.0+cu130", "cpu"));
  EXPECT_FALSE(applies(norm, "2.12.0", "cpu"));
  EXPECT_FALSE(applies(norm, "1.12.1", "cpu"));
  EXPECT_FALSE(applies(norm, "", "cpu"));
  EXPECT_EQ(versions(norm), "LibTorch 1.13-2.11");
  EXPECT_EQ(versions(*find_known_issue("bf16-conv-transpose-cpu")), "LibTorch 1.13");
  for (const KnownIssue& issue : known_issues()) EXPECT_EQ(issue.reference.rfind("https://", 0), 0u) << issue.id;
}

std::string verdict(const std::vector<CheckResult>& rows, bool strict) {
  std::ostringstream out;
  print_verdict(out, summarise(rows), /*complete=*/true, strict);
  return out.str();
}

TEST(KnownIssues, TheVerdictPassesWithThemListedAndStrictFailsIt) {
  std::vector<CheckResult> rows;
  for (int i = 0; i < 3; ++i) rows.push_back(conv_transpose(Outcome::error, kChannels));
  rows.push_back(on(norm_backward("group_norm", Outcome::fail, "gradient of float input 1: off"), "cpu", "1.13.0"));
  rows.push_back(on(testing::check_row("cpu", "mm", Outcome::pass, "matches"), "cpu", "1.13.0"));
  for (CheckResult& row : rows) label_known_issue(row);
  const auto verdicts = summarise(rows);
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_TRUE(verdicts[0].ok());
  EXPECT_FALSE(verdicts[0].ok(/*strict=*/true));
  EXPECT_EQ(verdicts[0].known, 4);

  const std::string text = verdict(rows, false);
  EXPECT_TRUE(contains(text, "- cpu: 5 checks: 1 passed, 0 failed, 0 not tested on the device, 0 skipped, "
                             "4 known LibTorch issues\n"))
      << text;
  EXPECT_TRUE(contains(text, "Known LibTorch issues on cpu (LibTorch 1.13.0;")) << text;
  EXPECT_TRUE(contains(text, "(3 checks); https://github.com/pytorch/pytorch/pull/92530")) << text;
  EXPECT_TRUE(contains(text, "\nVERDICT: PASS - 0 unexpected failures; 2 known LibTorch 1.13 issues (4 checks)\n"))
      << text;
  EXPECT_FALSE(contains(text, "Failed on")) << text;
  EXPECT_TRUE(contains(verdict(rows, true), "\nVERDICT: FAIL - 0 unexpected failures; 2 known LibTorch 1.13 issues "
                                            "(4 checks), failing under --strict\n"));
}

TEST(KnownIssues, AnIssueWhoseChecksAllPassIsReportedAsNotReproduced) {
  std::vector<CheckResult> rows = {conv_transpose(Outcome::pass, "matches"), conv_transpose(Outcome::pass, "matches")};
  const std::string text = verdict(rows, false);
  EXPECT_TRUE(contains(text, "Did not reproduce on cpu: bfloat16 conv_transpose1d/2d throw")) << text;
  EXPECT_TRUE(contains(text, "(known for LibTorch 1.13); its 2 checks passed on LibTorch 1.13.0. Fixed here")) << text;
  // Once it reproduces in any check, it is not reported as fixed.
  rows.push_back(conv_transpose(Outcome::error, kChannels));
  for (CheckResult& row : rows) label_known_issue(row);
  EXPECT_FALSE(contains(verdict(rows, false), "Did not reproduce")) << verdict(rows, false);
}

}  // namespace
}  // namespace mlspeed::verify
