// `mlspeed show` on a stored verification run: its checks and verdict, in every format; a speed
// run in the same file still shows its results; every form of run name `compare` takes.
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/show_options.h"
#include "mlspeed/compare/run_file.h"
#include "mlspeed/compare/run_source.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"
#include "mlspeed/verify/check_printers.h"
#include "testing/check_test_rows.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed::cli {
namespace {

using testing::check_row;
using testing::expect_same_check;
using testing::full_row;
using testing::sample_context;
using testing::TempDir;
using verify::CheckResult;
using verify::Outcome;

// What show_command prints on stdout.
std::string show(const std::string& run, const std::string& format, const std::string& db, bool wide = false) {
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    EXPECT_EQ(show_command(ShowOptions{run, *parse_format(format), db, wide}), 0);
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return captured.str();
}

using ::mlspeed::testing::contains;

struct StoredRuns {
  int64_t speed = 0, verify = 0, empty_verify = 0;
  std::vector<CheckResult> checks;
};

StoredRuns store(const std::string& path) {
  StoredRuns ids;
  Database db(path);
  ids.speed = begin_run<Result>(db, sample_context());
  Result r = full_row();
  store_row(db, ids.speed, r);
  RunContext context = sample_context();
  context.command = "mlspeed verify -d cuda:1";
  ids.empty_verify = begin_run<CheckResult>(db, context);  // every check filtered away
  ids.verify = begin_run<CheckResult>(db, context);
  CheckResult wrong = check_row("cuda:1", "mm", Outcome::fail, "3.1% of elements (12 of 400) off by up to 0.42");
  wrong.layout = "transposed";
  ids.checks = {check_row("cuda:1", "mm", Outcome::pass, "matches"), wrong,
                check_row("cuda:1", "softmax", Outcome::skipped, "not enough memory")};
  for (CheckResult& c : ids.checks) store_row(db, ids.verify, c);
  db.finish_run(ids.verify, "complete");
  return ids;
}

TEST(ShowVerifyRun, MarkdownPrintsTheContextChecksAndVerdict) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const StoredRuns ids = store(path);
  const std::string text = show("last", "md", path);
  EXPECT_TRUE(contains(text, "bench-01")) << text;  // the context block
  EXPECT_TRUE(contains(text, "| device")) << text;
  EXPECT_TRUE(contains(text, "off by up to 0.42")) << text;
  EXPECT_TRUE(contains(text, "cuda:1: 3 checks: 1 passed, 1 failed, 0 not tested on the device, 1 skipped")) << text;
  EXPECT_TRUE(contains(text, "- mm on cuda:1, float32, 64x64, transposed, forward: 3.1% of elements")) << text;
  EXPECT_TRUE(contains(text, "VERDICT: FAIL")) << text;
  EXPECT_EQ(show(std::to_string(ids.verify), "md", path), text);
}

TEST(ShowVerifyRun, MachineFormatsPrintTheStoredChecks) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const StoredRuns ids = store(path);
  for (const char* name : {"json", "jsonl", "csv"}) {
    const auto back = verify::parse_checks(*parse_format(name), show(std::to_string(ids.verify), name, path));
    ASSERT_EQ(back.size(), ids.checks.size()) << name;
    for (size_t i = 0; i < back.size(); ++i) expect_same_check(ids.checks[i], back[i], name);
  }
}

TEST(ShowVerifyRun, AVerifyRunWithoutChecksStillShowsAVerdictAndSpeedRunsStayAsTheyWere) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const StoredRuns ids = store(path);
  EXPECT_TRUE(contains(show(std::to_string(ids.empty_verify), "md", path), "No checks ran"));
  const std::string speed = show(std::to_string(ids.speed), "md", path);
  EXPECT_TRUE(contains(speed, "| workload")) << speed;
  EXPECT_FALSE(contains(speed, "VERDICT")) << speed;
  const auto rows = parse_results(Format::jsonl, show(std::to_string(ids.speed), "jsonl", path));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].workload, "gpt2-train");
}

TEST(ShowSpeedRun, WidePrintsEveryColumnAndIsRefusedWithAMachineFormat) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const StoredRuns ids = store(path);
  const std::string narrow = show(std::to_string(ids.speed), "md", path);
  const std::string wide = show(std::to_string(ids.speed), "md", path, /*wide=*/true);
  for (const char* title : {"| batch", "| TFLOP/s", "| peak memory"}) {
    EXPECT_FALSE(contains(narrow, title)) << title << " in:\n" << narrow;
    EXPECT_TRUE(contains(wide, title)) << title << " not in:\n" << wide;
  }
  EXPECT_TRUE(contains(narrow, "| test")) << narrow;
  EXPECT_THROW(parse_show_options({{"wide", ""}, {"format", "json"}}), UsageError);
  EXPECT_TRUE(parse_show_options({{"wide", ""}}).wide);
}

// `show` names a run as `compare` does: a label, last-N, an exported file, a reference set.
TEST(ShowRunNames, EveryFormOfRunNameIsShown) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const StoredRuns ids = store(path);
  {
    Database db(path);
    Result row = full_row();
    store_row(db, begin_run<Result>(db, sample_context(), "driver 580"), row);
  }
  EXPECT_TRUE(contains(show("label:driver 580", "md", path), "bench-01"));
  EXPECT_EQ(show("last-1", "md", path), show(std::to_string(ids.verify), "md", path));

  const std::string exported = dir.file("speed.json");
  ASSERT_EQ(write_whole_file(exported, write_run_file(load_run(std::to_string(ids.speed), path))), "");
  EXPECT_EQ(show(exported, "jsonl", ""), show(std::to_string(ids.speed), "jsonl", path));

  const std::string reference = show("ref:bert-t4", "md", "");
  EXPECT_TRUE(contains(reference, "bert")) << reference;
  EXPECT_THROW(show("label:nobody", "md", path), UsageError);
  EXPECT_THROW(show("abc", "md", path), UsageError);  // neither a run name nor a file
  EXPECT_THROW(show("99", "md", path), UsageError);
  EXPECT_THROW(show("ref:nothing", "md", ""), UsageError);
}

// A verification run's checks table has one width: --wide prints it as it is and says so.
TEST(ShowVerifyRun, WideOnAVerifyRunIsNotedAndChangesNothing) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const StoredRuns ids = store(path);
  std::ostringstream err;
  std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
  const std::string wide = show(std::to_string(ids.verify), "md", path, /*wide=*/true);
  std::cerr.rdbuf(old);
  EXPECT_EQ(wide, show(std::to_string(ids.verify), "md", path));
  EXPECT_TRUE(contains(err.str(), "--wide widens a speed run's table")) << err.str();
}

}  // namespace
}  // namespace mlspeed::cli
