// Every kind of bad input: one clear message naming the bad value and the choices, exit status
// 2, and nothing written to the results database.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

#include "mlspeed/core/files.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

struct Case {
  std::vector<std::string> args;
  std::string expected;  // in the message
};

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, ExitsWithStatus2AndACleanMessageAndStoresNothing) {
  TempDir dir;
  const std::string db = dir.file("results.db");
  // Tiny and short, in case a bad input were not caught; unless the case is about those options.
  const auto& extra = GetParam().args;
  auto has = [&](const char* option) { return std::find(extra.begin(), extra.end(), option) != extra.end(); };
  std::vector<std::string> args = {"run", "--db", db};
  if (!has("--sizes")) args.insert(args.end(), {"--sizes", "tiny"});
  if (!has("-n") && !has("--min-time")) args.insert(args.end(), {"-n", "1"});
  args.insert(args.end(), extra.begin(), extra.end());
  const auto r = run_cli(args, {{"MLSPEED_DB", dir.file("default.db")}});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_FALSE(path_exists(db));
  EXPECT_FALSE(path_exists(dir.file("default.db")));
}

INSTANTIATE_TEST_SUITE_P(
    Cli, BadInput,
    ::testing::Values(
        Case{{"-w", "resnet9"}, "--workloads: unknown value 'resnet9'; choose from: "},  // then the catalogue, in order
        Case{{"-d", "cuda:3"}, "--devices: no device 'cuda:3' on this machine; devices here: cpu"},
        Case{{"-d", "tpu"}, "no device 'tpu'"},
        Case{{"-t", "fp8"}, "--dtypes: unknown value 'fp8'; choose from: fp32, tf32, fp16, bf16"},
        Case{{"-o", "xml"}, "--format: unknown format 'xml'; choose from: md, json, jsonl, csv"},
        Case{{"--sizes", "huge"}, "--sizes: unknown value 'huge'; choose from: tiny, full"},
        Case{{"-b", "1,,4"}, "--batch: '1,,4' has an empty item"},
        Case{{"-b", "4,"}, "--batch: '4,' has an empty item"},
        Case{{"-b", "two"}, "--batch: 'two' is not a whole number"},
        Case{{"-b", "0"}, "--batch: '0' is out of range"},
        Case{{"-b", "-4"}, "--batch: '-4' is out of range"},
        Case{{"-s", "100000"}, "--seq: 100000 exceeds the longest sequence"},
        Case{{"-n", "0"}, "--iterations: '0' is out of range"},
        Case{{"-r", "0"}, "--repetitions: '0' is out of range"},
        Case{{"--warmup", "-1"}, "--warmup: '-1' is out of range"},
        Case{{"--min-time", "0"}, "--min-time: '0' must be greater than 0"},
        Case{{"--seed", "x"}, "--seed: 'x' is not a whole number"},
        Case{{"-w", "gpt2-generate", "-g", "9223372036854775807"},
             "--new-tokens: '9223372036854775807' is out of range; expected whole numbers from 0 up to 16777216"},
        Case{{"-w", "gpt2-generate", "-g", "0"}, "--new-tokens: 0 leaves a language-model test out"},
        Case{{"-w", "bert-base-infer", "-s", "0"}, "--seq: 0 leaves a language-model test out"},
        Case{{"-w", "llama2-7b-generate", "-s", "0", "-g", "0"}, "--seq 0 and --new-tokens 0 leave no test"},
        Case{{"-b", "100000000000000"}, "--batch: '100000000000000' is out of range"},
        Case{{"--threads", "100000"}, "--threads: '100000' is out of range; expected 1 to 1024"},
        Case{{"--threads", "2147483648"}, "--threads: '2147483648' is out of range; expected 1 to 1024"},
        Case{{"--threads", "4294967297"}, "--threads: '4294967297' is out of range; expected 1 to 1024"},
        Case{{"--bogus"}, "--bogus"},
        Case{{"--profile", "/proc/version/traces"}, "--profile: cannot use '/proc/version/traces' as a folder: "},
        Case{{"--profile", ""}, "--profile: the folder name is empty"},
        Case{{"--data", "/dev/zero"}, "--data: /dev/zero is a character device; give a regular file or a folder"},
        Case{{"--weights", "/tmp"}, "--weights: /tmp is a folder; give a regular file"},
        Case{{"-b", "1", "-b", "4"}, "--batch was given 2 times; give it once, with a comma list (e.g. --batch 1,4)"},
        Case{{"--warmup", "1", "--warmup", "2"}, "--warmup was given 2 times; give it once\n"},
        Case{{"-n", "5", "--min-time", "3"}, "-n and --min-time both given"},
        Case{{"--wide", "-o", "json"}, "--wide widens the md table, and -o json already has every field; give one"}),
    [](const ::testing::TestParamInfo<Case>& info) {
      std::string name = std::to_string(info.index);
      for (const auto& a : info.param.args)
        for (char c : a) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

// A named pipe is refused by what it is, before anything opens it: opening one for reading blocks
// until a writer comes, so a check after the open would never be reached.
TEST(BadInputFile, ANamedPipeAsWeightsOrDataIsRefusedWithoutBlocking) {
  TempDir dir;
  const std::string fifo = dir.file("weights.safetensors");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const char* option : {"--weights", "--data"}) {
    const auto r = run_cli({"run", "-w", "gpt2-train", "--sizes", "tiny", "-n", "1", "--no-db", option, fifo});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(std::string(option) + ": " + fifo + " is a named pipe"), std::string::npos) << r.err;
  }
}

TEST(BadDatabase, ACorruptFileIsRefusedAndLeftUntouched) {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const std::string garbage = "this is not a database, it is a shopping list: eggs, flour\n";
  testing::write_file(db, garbage);
  const auto r = run_cli({"run", "-w", "bert-base-infer", "--sizes", "tiny", "-d", "cpu", "-n", "1", "--db", db});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(db), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--no-db"), std::string::npos) << r.err;
  EXPECT_EQ(testing::read_file(db), garbage);
  EXPECT_TRUE(r.out.empty());
}

TEST(BadDatabase, AnUnwritablePathIsRefusedBeforeAnythingRuns) {
  TempDir dir;
  testing::write_file(dir.file("a-file"), "x");
  const std::string db = dir.file("a-file") + "/results.db";  // a path under a regular file
  const auto r = run_cli({"run", "-w", "bert-base-infer", "--sizes", "tiny", "-d", "cpu", "-n", "1", "--db", db});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(db), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(testing::read_file(dir.file("a-file")), "x");
}

TEST(BadDatabase, ShowRefusesAFileThatIsNotOursWithAdviceForReading) {
  TempDir dir;
  const std::string db = dir.file("notes.txt");
  testing::write_file(db, "not a database\n");
  const auto r = run_cli({"show", "--db", db});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("pass --db with the path of an mlspeed results database"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("--no-db"), std::string::npos) << r.err;
  EXPECT_EQ(testing::read_file(db), "not a database\n");
}

TEST(BadDatabase, ShowOfAnEmptyFileIsBadInputAndLeavesItEmpty) {
  TempDir dir;
  const std::string db = dir.file("empty.db");
  testing::write_file(db, "");
  const auto r = run_cli({"show", "--db", db});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("'" + db + "' is empty: no run has been stored in it yet"), std::string::npos) << r.err;
  EXPECT_EQ(testing::read_file(db), "");
}

TEST(BadDatabase, ShowWithoutADatabaseSaysHowToMakeOne) {
  TempDir dir;
  const auto r = run_cli({"show", "--db", dir.file("none.db")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("mlspeed run"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(dir.file("none.db")));
}

}  // namespace
}  // namespace mlspeed
