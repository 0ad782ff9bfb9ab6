// `mlspeed devices`, `workloads` and help, through the built program.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::run_cli;

TEST(WorkloadsCommand, ListsTheCatalogueWithExactParameterCounts) {
  const auto r = run_cli({"workloads"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nanogpt-shakespeare-char"), std::string::npos);
  EXPECT_NE(r.out.find("bert-base-infer"), std::string::npos);
  EXPECT_NE(r.out.find("10646784"), std::string::npos);   // SPEC.md: nanoGPT without wpe
  EXPECT_NE(r.out.find("109482240"), std::string::npos);  // SPEC.md: bert-base-uncased
}

TEST(WorkloadsCommand, JsonGivesSizesCountsAndFlops) {
  const auto r = run_cli({"workloads", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& w : j) by_name[w["name"]] = w;
  ASSERT_EQ(by_name.count("nanogpt-shakespeare-char"), 1u);
  const auto& gpt = by_name["nanogpt-shakespeare-char"];
  EXPECT_EQ(gpt["job"], "train");
  EXPECT_EQ(gpt["item_unit"], "tokens");
  bool has_full = false;
  for (const auto& s : gpt["sizes"]) {
    EXPECT_GT(s["flops"][0]["flops_per_item"].get<double>(), 0);
    if (s["name"] == "full") {
      has_full = true;
      EXPECT_EQ(s["parameters"], 10646784);
      EXPECT_EQ(s["batches"], nlohmann::json::array({64}));
      EXPECT_EQ(s["seq_lens"], nlohmann::json::array({256}));
    }
  }
  EXPECT_TRUE(has_full);
  const auto& bert = by_name["bert-base-infer"];
  EXPECT_EQ(bert["job"], "infer");
  for (const auto& s : bert["sizes"])
    if (s["name"] == "full") {
      EXPECT_EQ(s["parameters"], 109482240);
      EXPECT_EQ(s["batches"], nlohmann::json::array({1, 4}));
      EXPECT_EQ(s["seq_lens"], nlohmann::json::array({128, 512}));
    }
}

TEST(DevicesCommand, DescribesTheCpuAndTheSoftware) {
  const auto r = run_cli({"devices"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("cpu"), std::string::npos);
  EXPECT_NE(r.out.find(TORCH_VERSION), std::string::npos);
}

TEST(DevicesCommand, JsonForMachines) {
  const auto r = run_cli({"devices", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j["devices"].size(), 1u);
  const auto& cpu = j["devices"][0];
  EXPECT_EQ(cpu["id"], "cpu");
  EXPECT_GT(cpu["memory_bytes"].get<double>(), 0);
  EXPECT_GT(cpu["peak_flops"]["fp32"].get<double>(), 0);
  EXPECT_EQ(j["host"]["torch_version"], TORCH_VERSION);
  EXPECT_GE(j["host"]["torch_threads"].get<int>(), 1);
  EXPECT_FALSE(j["host"]["blas"].get<std::string>().empty());
}

TEST(Help, RunListsEveryOptionWithItsDefault) {
  const auto r = run_cli({"run", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* option : {"--workloads", "--devices", "--dtypes", "--sizes", "--batch", "--seq", "--repetitions",
                             "--warmup", "--iterations", "--min-time", "--format", "--db", "--no-db", "--seed", "--threads"})
    EXPECT_NE(r.out.find(option), std::string::npos) << option;
  EXPECT_NE(r.out.find("[default: fp32]"), std::string::npos);
}

TEST(Help, AnUnknownCommandIsNamedWithTheCommandsThereAre) {
  const auto r = run_cli({"benchmark"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "mlspeed: unknown command 'benchmark'; commands: devices, workloads, run, generate, quantize, verify, show, "
            "history, export, import, compare, report\n");
}

TEST(Help, NoCommandIsBadInput) {
  const auto r = run_cli({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--help"), std::string::npos);
}

}  // namespace
}  // namespace mlspeed
