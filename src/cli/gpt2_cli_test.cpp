// gpt2-train and gpt2-generate through `mlspeed run` at the tiny size on the CPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlspeed/results/printers.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::run_cli;

std::vector<Result> run_rows(std::vector<std::string> more) {
  std::vector<std::string> args = {"run", "-d",       "cpu", "--sizes", "tiny", "-n",
                                   "1",   "--warmup", "0",   "--no-db", "-o",   "jsonl"};
  args.insert(args.end(), more.begin(), more.end());
  const auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return parse_results(Format::jsonl, r.out);
}

TEST(Gpt2Run, BothWorkloadsAtTinySizeInFloat32AndBFloat16) {
  const auto rows = run_rows({"-w", "gpt2-train,gpt2-generate", "-t", "fp32,bf16"});
  ASSERT_EQ(rows.size(), 4u);  // one default shape each, two dtypes
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::ok) << row.workload << " " << name(row.precision) << ": " << row.message;
    EXPECT_EQ(row.samples_ms.size(), 1u);
    EXPECT_EQ(row.item_unit, "tokens");
    EXPECT_GT(row.flops_per_item, 0);
    ASSERT_TRUE(row.items_per_s) << row.workload;
  }
  for (int i : {0, 1}) {
    const Result& train = rows[i];
    EXPECT_EQ(train.workload, "gpt2-train");
    EXPECT_EQ(train.job, Job::train);
    EXPECT_EQ(train.items_per_step, 4 * 32);
    EXPECT_EQ(train.new_tokens, 0);
    EXPECT_FALSE(train.first_token_ms);
    EXPECT_EQ(train.parameters, 43'904);
  }
  EXPECT_TRUE(rows[1].autocast);
  for (int i : {2, 3}) {
    const Result& gen = rows[i];
    EXPECT_EQ(gen.workload, "gpt2-generate");
    EXPECT_EQ(gen.job, Job::infer);
    EXPECT_EQ(gen.batch, 1);
    EXPECT_EQ(gen.seq_len, 4);
    EXPECT_EQ(gen.new_tokens, 16);
    EXPECT_EQ(gen.items_per_step, 16);
    ASSERT_TRUE(gen.first_token_ms) << "generation rows time the first token";
    ASSERT_TRUE(gen.ms_per_token);
    EXPECT_GT(*gen.first_token_ms, 0);
    EXPECT_LE(*gen.first_token_ms, gen.summary.median);
    EXPECT_GT(*gen.ms_per_token, 0);
    EXPECT_EQ(gen.first_token_samples_ms.size(), 1u);
  }
  EXPECT_EQ(rows[2].precision, Precision::fp32);
  EXPECT_EQ(rows[3].precision, Precision::bf16);
}

TEST(Gpt2Run, GenerateSweepsPromptLengthsNewTokensAndBatches) {
  const auto rows = run_rows({"-w", "gpt2-generate", "-s", "4,9", "-g", "5", "-b", "1,2"});
  ASSERT_EQ(rows.size(), 4u);
  const std::vector<std::vector<int64_t>> expected = {{4, 5, 1}, {4, 5, 2}, {9, 5, 1}, {9, 5, 2}};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, Status::ok) << rows[i].message;
    EXPECT_EQ((std::vector<int64_t>{rows[i].seq_len, rows[i].new_tokens, rows[i].batch}), expected[i]) << i;
    EXPECT_EQ(rows[i].items_per_step, 5.0 * double(rows[i].batch));
    EXPECT_TRUE(rows[i].first_token_ms && rows[i].ms_per_token);
  }
}

TEST(Gpt2Run, TooManyTokensForTheModelIsBadInput) {
  const auto r = run_cli(
      {"run", "-w", "gpt2-generate", "-d", "cpu", "--sizes", "tiny", "-s", "60", "-g", "5", "-n", "1", "--no-db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--seq + --new-tokens: 65 exceeds the longest sequence gpt2-generate (tiny) takes, 64"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace mlspeed
