// --weights and --data end to end: real weights and data sets are used and recorded in every
// row; bad files stop the run with exit status 2 and a message naming the file; options that
// cannot apply are refused before anything runs.
#include <gtest/gtest.h>

#include <c10/core/Device.h>

#include "mlspeed/io/weights.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/workloads/workload.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;
using testing::write_file;

// A workload's tiny model with the weights of `seed`, written to `path`.
void save_tiny(const std::string& workload, uint64_t seed, const std::string& path) {
  auto session = find_workload(workload)->open("tiny", c10::Device(c10::kCPU), Precision::fp32, {seed});
  save_weights(session->model(), path);
}

const std::vector<std::string> kNanoTiny = {"run", "-w", "nanogpt-shakespeare-char", "-d", "cpu", "--sizes", "tiny",
                                            "-n", "2", "--warmup", "0", "-o", "jsonl"};

using testing::with;

TEST(WeightsOption, LoadsTheFileAndRecordsItInEveryRow) {
  TempDir dir;
  const std::string weights = dir.file("nano.safetensors");
  save_tiny("nanogpt-shakespeare-char", 5, weights);
  const auto r = run_cli(with(kNanoTiny, {"--weights", weights, "--db", dir.file("r.db")}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok) << rows[0].message;
  EXPECT_EQ(rows[0].weights, weights);
  EXPECT_EQ(rows[0].data, "synthetic");
  // The database has it too.
  const auto shown = run_cli({"show", "--db", dir.file("r.db"), "-o", "jsonl"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(parse_results(Format::jsonl, shown.out).at(0).weights, weights);
}

TEST(WeightsOption, AFileForAnotherModelIsRefusedWithTheNamesAndExitStatus2) {
  TempDir dir;
  const std::string weights = dir.file("bert.safetensors");
  save_tiny("bert-base-infer", 1, weights);
  const auto r = run_cli(with(kNanoTiny, {"--weights", weights, "--db", dir.file("r.db")}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(weights + " does not fit this model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing from the file:\n    transformer.h.0.attn.c_attn.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("in the file but not in the model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("embeddings.word_embeddings.weight"), std::string::npos) << r.err;
  EXPECT_TRUE(parse_results(Format::jsonl, r.out).empty());
}

TEST(WeightsOption, BadUseIsRefusedBeforeAnythingRuns) {
  TempDir dir;
  const auto missing = run_cli(with(kNanoTiny, {"--weights", dir.file("none.safetensors"), "--no-db"}));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--weights: " + dir.file("none.safetensors") + " does not exist"), std::string::npos)
      << missing.err;
  write_file(dir.file("w.safetensors"), "x");
  const auto two = run_cli({"run", "-w", "nanogpt-shakespeare-char,bert-base-infer", "-d", "cpu", "--sizes", "tiny",
                            "--weights", dir.file("w.safetensors"), "--no-db"});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_NE(two.err.find("a weights file fits one model"), std::string::npos) << two.err;
  const auto corrupt = run_cli(with(kNanoTiny, {"--weights", dir.file("w.safetensors"), "--no-db"}));
  EXPECT_EQ(corrupt.exit_code, 2);
  EXPECT_NE(corrupt.err.find("too short for a safetensors file"), std::string::npos) << corrupt.err;
}

TEST(DataOption, TrainsOnATextFileAndSaysSoInTheRow) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 40; ++i) text += "First Citizen:\nBefore we proceed any further, hear me speak.\n";
  write_file(dir.file("input.txt"), text);
  const auto r = run_cli(with(kNanoTiny, {"--data", dir.file("input.txt"), "--no-db"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok) << rows[0].message;
  EXPECT_NE(rows[0].data.find("text " + dir.file("input.txt") + ": " + std::to_string(text.size()) + " characters"),
            std::string::npos)
      << rows[0].data;
}

TEST(DataOption, AMalformedFileStopsTheRunWithTheOffset) {
  TempDir dir;
  write_file(dir.file("bad.txt"), std::string(500, 'a') + "\xff" + std::string(100, 'b'));
  const auto r = run_cli(with(kNanoTiny, {"--data", dir.file("bad.txt"), "--no-db"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir.file("bad.txt") + ": is not UTF-8 text: an invalid byte sequence at offset 500"), std::string::npos) << r.err;
}

TEST(DataOption, AWorkloadThatReadsNoDataSetRefusesIt) {
  TempDir dir;
  write_file(dir.file("input.txt"), "hello");
  const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "--data",
                          dir.file("input.txt"), "--no-db"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--data: bert-base-infer reads no data set"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mlspeed
