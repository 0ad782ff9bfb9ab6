// `mlspeed compare` as a user runs it: two tiny CPU runs stored in a fresh database, compared by
// id and by `last-1 last`, in every output format, with the gate and the bad inputs. Which run is
// faster is up to the machine, so nothing here depends on it: the structure and the exit status
// logic are checked (the verdicts themselves are unit-tested on synthetic samples).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::CliResult;
using testing::run_cli;
using testing::TempDir;

const std::set<std::string> kVerdicts = {"faster", "slower", "same", "too few samples"};

class Compare : public ::testing::Test {
 protected:
  // Runs 1 and 2 are speed runs of the same four configurations, run 3 a verification run.
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    for (int i = 0; i < 2; ++i) {
      const CliResult r = run_cli({"run", "--sizes", "tiny", "-w", "bert-base-infer", "-d", "cpu", "-n", "20", "--db", db()});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    const CliResult v = run_cli({"verify", "--level", "op", "--ops", "gelu", "-d", "cpu", "--db", db()});
    ASSERT_EQ(v.exit_code, 0) << v.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string db() { return dir_->file("results.db"); }

  static CliResult compare(std::vector<std::string> args) {
    args.insert(args.begin(), "compare");
    args.insert(args.end(), {"--db", db()});
    return run_cli(args);
  }

  static TempDir* dir_;
};
TempDir* Compare::dir_ = nullptr;

// The table rows of the markdown output (header and rule excluded).
std::vector<std::string> table_rows(const std::string& md) {
  std::vector<std::string> rows;
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("| bert-base-infer", 0) == 0) rows.push_back(line);
  return rows;
}

TEST_F(Compare, TwoRunsByIdGiveEveryConfigurationAVerdictInATableThatFits120Columns) {
  const CliResult r = compare({"1", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(baseline)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| configuration"), std::string::npos) << r.out;
  const std::vector<std::string> rows = table_rows(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;  // batch {1, 2} x seq {16, 32} at the tiny size
  for (const std::string& row : rows) {
    EXPECT_LE(row.size(), 120u) << row;
    bool judged = false;
    for (const std::string& verdict : kVerdicts) judged |= row.find(verdict) != std::string::npos;
    EXPECT_TRUE(judged) << "no verdict in: " << row;
  }
  EXPECT_NE(r.out.find("geometric mean"), std::string::npos) << r.out;
}

TEST_F(Compare, LastMinusOneAndLastNameRuns) {
  // Run 3 is the verification run, so last-1 and last are runs 2 and 3: compare refuses it.
  const CliResult r = compare({"last-1", "last"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("compare takes speed runs"), std::string::npos) << r.err;
  const CliResult speed = compare({"last-2", "last-1"});
  EXPECT_EQ(speed.exit_code, 0) << speed.err;
  EXPECT_EQ(table_rows(speed.out).size(), 4u) << speed.out;
}

TEST_F(Compare, JsonAndCsvCarryEveryFigure) {
  const CliResult json = compare({"1", "2", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json records = nlohmann::json::parse(json.out);
  ASSERT_EQ(records.size(), 4u);
  for (const auto& record : records) {
    EXPECT_EQ(record["baseline_n"], 20);
    EXPECT_EQ(record["n"], 20);
    EXPECT_GT(record["baseline_median_ms"].get<double>(), 0);
    EXPECT_GT(record["speedup"].get<double>(), 0);
    EXPECT_TRUE(record["p_value"].is_number());
    EXPECT_EQ(record["p_method"], "normal");  // 20 samples a side
    EXPECT_TRUE(kVerdicts.count(record["verdict"].get<std::string>())) << record.dump();
  }
  const CliResult csv = compare({"1", "2", "-o", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("configuration,workload,size,", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 5) << csv.out;
}

TEST_F(Compare, AGateNoRunCanFailPassesAndSaysSo) {
  const CliResult r = compare({"1", "2", "--fail-if-slower", "1000000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no configuration is slower beyond noise by more than 1e+06%"), std::string::npos) << r.err;
}

TEST_F(Compare, ARunAgainstItselfIsTheSameEverywhere) {
  const CliResult r = compare({"1", "1", "--fail-if-slower", "0", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& record : nlohmann::json::parse(r.out)) EXPECT_EQ(record["verdict"], "same") << record.dump();
}

TEST_F(Compare, TheDevicesOfOneRunMustBeInIt) {
  const CliResult r = compare({"1", "--devices", "cpu,cuda:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no rows on cuda:0; its devices: cpu"), std::string::npos) << r.err;
}

TEST_F(Compare, BadInputExitsTwoWithOneClearLine) {
  const CliResult one = compare({"1"});
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_NE(one.err.find("compare needs two runs or more"), std::string::npos) << one.err;
  const CliResult missing = compare({"1", "99"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("99"), std::string::npos) << missing.err;
  const CliResult devices = compare({"1", "2", "--devices", "cpu,cuda:0"});
  EXPECT_EQ(devices.exit_code, 2);
  EXPECT_NE(devices.err.find("give one run"), std::string::npos) << devices.err;
  for (const CliResult* r : {&one, &missing, &devices}) {
    EXPECT_TRUE(r->out.empty()) << r->out;
    EXPECT_EQ(std::count(r->err.begin(), r->err.end(), '\n'), 1) << r->err;
  }
}

TEST_F(Compare, AReferenceSetIsMarkedAsPublishedFiguresAndNeverGated) {
  const CliResult r = compare({"1", "ref:bert-t4", "--fail-if-slower", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ref:bert-t4 holds published figures measured by other code"), std::string::npos) << r.out;
  // The tiny CPU run and the T4's full-size GPU figures share no device kind: one line each way.
  EXPECT_NE(r.out.find("B has no cpu rows; A has 4 configurations on cpu."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("A has no cuda rows; B has 4 configurations on cuda."), std::string::npos) << r.out;
}

TEST(CompareReferences, TheListNamesEachReferenceSet) {
  const CliResult r = run_cli({"compare", "--list-references"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ref:bert-t4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("published: "), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mlspeed
