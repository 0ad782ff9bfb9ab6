// `mlspeed run -w llama2-7b-generate` end to end on the CPU: pp and tg as separate rows in
// tokens/s at the tiny size, custom prompt and generation lists, and the 7B model in float32
// refused as too large before anything is allocated.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "mlspeed/results/printers.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::run_cli;

const std::vector<std::string> kTinyLlama = {"run", "-w", "llama2-7b-generate", "-d", "cpu", "--sizes", "tiny",
                                        "-n", "1", "--warmup", "0", "--no-db", "-o", "jsonl"};

using testing::with;

int64_t available_host_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("MemAvailable:", 0) == 0) return std::stoll(line.substr(13)) * 1024;
  return -1;
}

TEST(LlamaCli, TinyPromptAndGenerationRowsInFloat32AndBFloat16) {
  const auto r = run_cli(with(kTinyLlama, {"-t", "fp32,bf16"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 4u);  // per dtype: pp16, tg8
  for (size_t i = 0; i < rows.size(); ++i) {
    const Result& row = rows[i];
    EXPECT_EQ(row.status, Status::ok) << row.message;
    EXPECT_EQ(row.workload, "llama2-7b-generate");
    EXPECT_EQ(row.size, "tiny");
    EXPECT_EQ(row.job, Job::infer);
    EXPECT_EQ(row.item_unit, "tokens");
    EXPECT_EQ(row.parameters, 34'976);
    EXPECT_EQ(row.precision, i < 2 ? Precision::fp32 : Precision::bf16);
    const bool pp = i % 2 == 0;
    EXPECT_EQ(row.seq_len, pp ? 16 : 0) << i;
    EXPECT_EQ(row.new_tokens, pp ? 0 : 8) << i;
    EXPECT_EQ(row.items_per_step, pp ? 16 : 8) << i;
    ASSERT_TRUE(row.items_per_s) << i;
    EXPECT_GT(*row.items_per_s, 0);
    EXPECT_GT(row.flops_per_item, 0);
    EXPECT_EQ(row.samples_ms.size(), 1u);
  }
}

TEST(LlamaCli, CustomPromptGenerationAndBatchLists) {
  const auto r = run_cli(with(kTinyLlama, {"-s", "8,12", "-g", "4", "-b", "1,2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::ok) << row.message;
    shapes.push_back({row.batch, row.seq_len, row.new_tokens, static_cast<int64_t>(row.items_per_step)});
  }
  EXPECT_EQ(shapes, (std::vector<std::vector<int64_t>>{
                        {1, 8, 0, 8}, {2, 8, 0, 16}, {1, 12, 0, 12}, {2, 12, 0, 24}, {1, 0, 4, 4}, {2, 0, 4, 8}}));
}

TEST(LlamaCli, PromptLongerThanTheModelTakesIsAUsageError) {
  const auto r = run_cli(with(kTinyLlama, {"-s", "60", "-g", "4"}));
  EXPECT_EQ(r.exit_code, 0) << "60 and 4 are separate rows, each within 64: " << r.err;
  const auto too_long = run_cli(with(kTinyLlama, {"-s", "65"}));
  EXPECT_EQ(too_long.exit_code, 2);
  EXPECT_NE(too_long.err.find("64"), std::string::npos) << too_long.err;
}

TEST(LlamaCli, Llama2_7BInFloat32IsRefusedAsTooLargeWithoutAllocating) {
  const int64_t weights = 6'738'415'616LL * 4;
  if (available_host_bytes() < 0 || available_host_bytes() >= weights)
    GTEST_SKIP() << "this host has room for 27 GB of float32 weights";
  const auto r = run_cli({"run", "-w", "llama2-7b-generate", "-d", "cpu", "--sizes", "full", "-t", "fp32",
                          "--no-db", "-o", "jsonl"});
  EXPECT_EQ(r.exit_code, 0) << "a refusal is a result, not a failure: " << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 2u);  // pp512 and tg128
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::too_large);
    EXPECT_EQ(row.parameters, 6'738'415'616);
    EXPECT_NE(row.message.find("needs at least 25."), std::string::npos) << row.message;  // 25.1 GiB of weights + cache
    EXPECT_NE(row.message.find("free"), std::string::npos) << row.message;
    EXPECT_FALSE(row.items_per_s);
  }
  EXPECT_EQ(rows[0].seq_len, 512);
  EXPECT_EQ(rows[1].new_tokens, 128);
}

}  // namespace
}  // namespace mlspeed
