// Runs named, listed and carried to another machine, as a user does it: two labelled tiny runs,
// `history`, `export`, `import` into another database, and `history` there.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

testing::CliResult tiny_run(const std::string& db, const std::string& label) {
  return run_cli({"run", "--sizes", "tiny", "-w", "bert-base-infer", "-d", "cpu", "-n", "3", "--label", label, "--db",
                  db});
}

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(HistoryCli, LabelledRunsListedExportedAndImportedWithTheirContext) {
  TempDir dir;
  const std::string db = dir.file("X.db"), other = dir.file("Y.db"), file = dir.file("b.json");
  const auto a = tiny_run(db, "a");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.err.find("stored run 1 labelled \"a\" (4 results)"), std::string::npos) << a.err;
  ASSERT_EQ(tiny_run(db, "b two").exit_code, 0);

  const auto listed = run_cli({"history", "--db", db});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("| b two |"), std::string::npos) << listed.out;
  EXPECT_LT(listed.out.find("b two"), listed.out.find("| a "));  // newest first
  EXPECT_NE(listed.out.find("mlspeed compare 1 2"), std::string::npos);
  std::istringstream table(listed.out);
  for (std::string line; std::getline(table, line);) EXPECT_LE(line.size(), 120u) << line;

  const auto only_a = run_cli({"history", "--db", db, "--label", "a", "-o", "json"});
  ASSERT_EQ(only_a.exit_code, 0) << only_a.err;
  const auto rows = nlohmann::json::parse(only_a.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["id"], 1);
  EXPECT_EQ(rows[0]["rows"], 4);

  const auto exported = run_cli({"export", "label:b two", "--db", db, "--output", file});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto imported = run_cli({"import", file, "--db", other});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("as run 1 labelled \"b two\" (4 results"), std::string::npos) << imported.out;

  const auto there = run_cli({"history", "--db", other, "-o", "json"});
  ASSERT_EQ(there.exit_code, 0) << there.err;
  const auto runs = nlohmann::json::parse(there.out);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["label"], "b two");
  EXPECT_EQ(runs[0]["status"], "complete");
  EXPECT_EQ(runs[0]["rows"], 4);
  EXPECT_NE(runs[0]["devices"].get<std::string>().find("cpu ("), std::string::npos);  // the context came along
  EXPECT_FALSE(runs[0]["torch_version"].get<std::string>().empty());
  EXPECT_EQ(runs[0]["command"].get<std::string>().rfind("mlspeed import ", 0), 0u);

  // The measured command stays in the context; show prints the same rows.
  const auto shown_here = run_cli({"show", "2", "--db", db, "-o", "jsonl"});
  const auto shown_there = run_cli({"show", "1", "--db", other, "-o", "jsonl"});
  ASSERT_EQ(shown_there.exit_code, 0) << shown_there.err;
  EXPECT_EQ(lines(shown_here.out), lines(shown_there.out));
  EXPECT_EQ(nlohmann::json::parse(testing::read_file(file))["context"]["command"].get<std::string>().find(
                "mlspeed run --sizes tiny"),
            0u);
}

TEST(HistoryCli, ShowJsonOutputImportsWithARebuiltContext) {
  TempDir dir;
  const std::string db = dir.file("X.db"), other = dir.file("Y.db"), file = dir.file("rows.json");
  ASSERT_EQ(tiny_run(db, "a").exit_code, 0);
  const auto shown = run_cli({"show", "last", "--db", db, "-o", "json"});
  ASSERT_EQ(shown.exit_code, 0);
  testing::write_file(file, shown.out);
  const auto imported = run_cli({"import", file, "--db", other, "--label", "friend"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("rebuilt from the rows"), std::string::npos) << imported.out;
  const auto there = run_cli({"history", "--db", other, "--label", "friend", "-o", "csv"});
  EXPECT_EQ(lines(there.out), 2u) << there.out;
}

TEST(HistoryCli, EmptyNoMatchAndMissingDatabase) {
  TempDir dir;
  const std::string db = dir.file("X.db");
  const auto missing = run_cli({"history", "--db", db});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no results database at"), std::string::npos) << missing.err;
  ASSERT_EQ(tiny_run(db, "a").exit_code, 0);
  const auto none = run_cli({"history", "--db", db, "--device", "cuda"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("no stored run matches"), std::string::npos) << none.out;
  const auto bad = run_cli({"history", "--db", db, "--since", "yesterday"});
  EXPECT_EQ(bad.exit_code, 2);
  const auto unknown = run_cli({"export", "7", "--db", db});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no run 7"), std::string::npos) << unknown.err;
  const auto not_a_run = run_cli({"import", db, "--db", dir.file("Y.db")});
  EXPECT_EQ(not_a_run.exit_code, 2);
  EXPECT_NE(not_a_run.err.find("cannot be imported"), std::string::npos) << not_a_run.err;
}

}  // namespace
}  // namespace mlspeed
