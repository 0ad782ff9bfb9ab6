// `mlspeed verify` and the quantised-weight path end to end on the CPU: --quick runs quant_linear,
// quant_dequantize and the quantised-Llama rows and passes on a healthy CPU; each quantised fault
// injected into it fails with exit status 1 and the self-test line says it was caught; the model
// level's weight formats are chosen with --model-weight-formats, and a plain format is refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

TEST(VerifyQuantCli, QuickRunsTheQuantisedChecksAndCatchesEachQuantisedFault) {
  const std::vector<std::string> quick = {"verify", "-d", "cpu", "--quick", "--no-db", "--ops",
                                          "quant_linear,quant_dequantize", "-w", "llama2-7b-generate"};
  std::vector<std::string> rows = quick;
  rows.insert(rows.end(), {"-o", "csv"});  // one line a row (the table groups them)
  const auto healthy = run_cli(rows);
  EXPECT_EQ(healthy.exit_code, 0) << healthy.out << healthy.err;
  for (const char* word : {",quant_linear,", ",quant_dequantize,", ",q4_k_m,", ",decode,"})
    EXPECT_NE(healthy.out.find(word), std::string::npos) << word << "\n" << healthy.out;
  for (const char* fault : {"quant-nibbles-swapped", "quant-scale-as-bf16", "quant-kquant-subblock-scale-shifted",
                            "quant-block-offset"}) {
    std::vector<std::string> args = quick;
    args.insert(args.end(), {"--inject-fault", fault});
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << fault << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(std::string("\nself-test: the injected fault ") + fault), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("was caught: "), std::string::npos) << fault << "\n" << r.out;
  }
}

TEST(VerifyQuantCli, ModelWeightFormatsChoosesTheQuantisedLlamaRows) {
  const std::vector<std::string> model = {"verify", "-d", "cpu", "--level", "model", "-w", "llama2-7b-generate",
                                          "--no-db", "-o", "csv"};
  std::vector<std::string> one = model;
  one.insert(one.end(), {"--model-weight-formats", "Q4_K_M"});
  const auto r = run_cli(one);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(",q4_k_m,"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(",q8_0,"), std::string::npos) << r.out;
  std::vector<std::string> none = model;
  none.insert(none.end(), {"--model-weight-formats", "none"});
  const auto n = run_cli(none);
  EXPECT_EQ(n.exit_code, 0) << n.out << n.err;
  EXPECT_EQ(n.out.find(",q4_k_m,"), std::string::npos) << n.out;
  TempDir dir;
  for (const char* bad : {"f16", "q5_k_m"}) {
    const auto b = run_cli({"verify", "--model-weight-formats", bad, "--db", dir.file("never.db")});
    EXPECT_EQ(b.exit_code, 2) << bad << ": " << b.out << b.err;
    EXPECT_NE(b.err.find("--model-weight-formats"), std::string::npos) << bad << ": " << b.err;
  }
}

}  // namespace
}  // namespace mlspeed
