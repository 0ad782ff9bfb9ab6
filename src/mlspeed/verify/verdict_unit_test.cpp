#include "mlspeed/verify/verdict.h"

#include <gtest/gtest.h>

#include <sstream>

#include "testing/check_test_rows.h"
#include "testing/text.h"

namespace mlspeed::verify {
namespace {

using testing::check_row;

std::string printed(const std::vector<CheckResult>& rows) {
  std::ostringstream out;
  print_verdict(out, summarise(rows));
  return out.str();
}

using ::mlspeed::testing::contains;

std::vector<CheckResult> mixed_rows() {
  std::vector<CheckResult> rows;
  rows.push_back(check_row("cuda:0", "mm", Outcome::pass, "matches"));
  rows.push_back(check_row("cpu", "mm", Outcome::pass, "matches"));
  CheckResult wrong = check_row("cuda:0", "mm", Outcome::fail, "3.1% of elements (1234 of 40000) off by up to 0.42");
  wrong.layout = "transposed";
  wrong.shape = "4096x4096";
  rows.push_back(wrong);
  rows.push_back(check_row("cuda:0", "sdpa", Outcome::error, "CUDA error: an illegal memory access"));
  for (int i = 0; i < 3; ++i) {
    CheckResult fallback = check_row("cuda:0", "cumsum", Outcome::not_tested, "fell back");
    fallback.fallback = "aten::cumsum is not implemented for the device; running on the CPU";
    rows.push_back(fallback);
  }
  rows.push_back(check_row("cuda:0", "mm", Outcome::skipped, "not enough memory for 2^31 elements"));
  rows.push_back(check_row("cuda:0", "mm", Outcome::skipped, "float64 not implemented for the device"));
  rows.push_back(check_row("cuda:0", "bmm", Outcome::skipped, "not enough memory for 2^31 elements"));
  CheckResult flaky = check_row("cuda:0", "index_add", Outcome::pass, "matches");
  flaky.reproducible = false;
  rows.push_back(flaky);
  CheckResult steady = check_row("cuda:0", "index_add", Outcome::pass, "matches");
  steady.reproducible = true;
  rows.push_back(steady);
  return rows;
}

TEST(Verdict, CountsPerDeviceInFirstSeenOrder) {
  const auto verdicts = summarise(mixed_rows());
  ASSERT_EQ(verdicts.size(), 2u);
  const DeviceVerdict& gpu = verdicts[0];
  EXPECT_EQ(gpu.device, "cuda:0");
  EXPECT_EQ(gpu.run, 11);
  EXPECT_EQ(gpu.passed, 3);
  EXPECT_EQ(gpu.failed, 1);
  EXPECT_EQ(gpu.errors, 1);
  EXPECT_EQ(gpu.not_tested, 3);
  EXPECT_EQ(gpu.skipped, 3);
  EXPECT_EQ(gpu.not_reproducible, 1);
  ASSERT_EQ(gpu.failures.size(), 2u);
  EXPECT_EQ(gpu.failures[0].check, "mm");
  EXPECT_EQ(gpu.failures[1].check, "sdpa");
  EXPECT_EQ(gpu.not_tested_rows.size(), 3u);
  EXPECT_EQ(gpu.skip_reasons, (std::vector<std::string>{"not enough memory for 2^31 elements (2 checks)",
                                                         "float64 not implemented for the device (1 check)"}));
  EXPECT_FALSE(gpu.ok());

  const DeviceVerdict& cpu = verdicts[1];
  EXPECT_EQ(cpu.device, "cpu");
  EXPECT_EQ(cpu.run, 1);
  EXPECT_EQ(cpu.passed, 1);
  EXPECT_TRUE(cpu.ok());
}

TEST(Verdict, AnErrorAloneFailsTheDevice) {
  const auto verdicts = summarise({check_row("cpu", "mm", Outcome::error, "threw")});
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].ok());
}

TEST(Verdict, NotTestedAndSkippedDoNotFailButAreNeverPasses) {
  const auto verdicts = summarise({check_row("mps", "cumsum", Outcome::not_tested, "fallback"),
                                   check_row("mps", "mm", Outcome::skipped, "no float64")});
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_TRUE(verdicts[0].ok());
  EXPECT_EQ(verdicts[0].passed, 0);
}

TEST(Verdict, PrintsCountsEachFailureWhatWasNotTestedAndWhy) {
  const std::string text = printed(mixed_rows());
  EXPECT_TRUE(contains(text, "- cuda:0: 11 checks: 3 passed, 1 failed, 3 not tested on the device, 3 skipped, 1 error; "
                             "1 check not reproducible (two runs differed bitwise)\n"))
      << text;
  EXPECT_TRUE(contains(text, "- cpu: 1 check: 1 passed, 0 failed, 0 not tested on the device, 0 skipped\n")) << text;
  EXPECT_TRUE(contains(text, "- mm on cuda:0, float32, 4096x4096, transposed, forward: 3.1% of elements (1234 of 40000) "
                             "off by up to 0.42\n"))
      << text;
  EXPECT_TRUE(contains(text, "- error: sdpa on cuda:0, float32, 64x64, forward: CUDA error: an illegal memory access\n"))
      << text;
  EXPECT_TRUE(contains(text, "- cumsum: aten::cumsum is not implemented for the device; running on the CPU (3 checks)\n"))
      << text;
  EXPECT_TRUE(contains(text, "- not enough memory for 2^31 elements (2 checks)\n")) << text;
  EXPECT_TRUE(contains(text, "\nVERDICT: FAIL - 2 unexpected failures\n")) << text;
  EXPECT_EQ(text.find("Failed on cpu"), std::string::npos) << text;
}

TEST(Verdict, FailuresOfOneOpAndPassAreOneLineSayingWhatTheyCovered) {
  std::vector<CheckResult> rows;
  for (const char* dtype : {"fp16", "bf16"})
    for (const char* layout : {"contiguous", "transposed"}) {
      CheckResult row = check_row("cuda:0", "softmax", Outcome::fail, "NaN in 100% of elements");
      row.dtype = dtype;
      row.layout = layout;
      row.shape = "4x2048";
      rows.push_back(row);
    }
  rows.push_back(check_row("cuda:0", "mm", Outcome::fail, "off by up to 0.42"));
  const std::string text = printed(rows);
  EXPECT_TRUE(contains(text, "- softmax forward on cuda:0: 4 checks failed (fp16, bf16; contiguous, transposed; "
                             "4x2048); the first: softmax on cuda:0, fp16, 4x2048, forward: NaN in 100% of elements\n"))
      << text;
  EXPECT_TRUE(contains(text, "- mm on cuda:0, float32, 64x64, forward: off by up to 0.42\n")) << text;
  EXPECT_TRUE(contains(text, "VERDICT: FAIL - 5 unexpected failures")) << text;
}

TEST(Verdict, PassWhenNothingFailed) {
  const std::string text = printed({check_row("cpu", "mm", Outcome::pass, "matches")});
  EXPECT_TRUE(contains(text, "\nVERDICT: PASS - 0 unexpected failures\n")) << text;
  EXPECT_EQ(text.find("Failed"), std::string::npos) << text;
}

TEST(Verdict, AnInterruptedRunSaysItsVerdictIsIncomplete) {
  std::ostringstream out;
  print_verdict(out, summarise({check_row("cpu", "mm", Outcome::pass, "matches")}), /*complete=*/false);
  EXPECT_TRUE(contains(out.str(), "\nVERDICT: INCOMPLETE, PASS so far - 0 unexpected failures (interrupted"))
      << out.str();
  EXPECT_FALSE(contains(out.str(), "VERDICT: PASS")) << out.str();
}

TEST(Verdict, NoChecksIsNoVerdict) {
  const std::string text = printed({});
  EXPECT_TRUE(contains(text, "No checks ran")) << text;
  EXPECT_EQ(text.find("VERDICT"), std::string::npos) << text;
}

}  // namespace
}  // namespace mlspeed::verify
