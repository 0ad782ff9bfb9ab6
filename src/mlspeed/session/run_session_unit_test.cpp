// The session every row-producing command shares: rows printed and stored as they come, the run's
// status and kind recorded, the closing messages, and the exit status from the rows and the end.
#include "mlspeed/session/run_session.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/standard_output.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::full_row;
using testing::sample_context;
using testing::TempDir;

// A printer that remembers what it was asked to print.
class RecordingPrinter : public RowPrinter<Result> {
 public:
  explicit RecordingPrinter(std::vector<std::string>* log) : log_(log) {}
  void header(const RunContext& context) override { log_->push_back("header " + context.command); }
  void row(const Result& r) override { log_->push_back("row " + r.workload); }
  void footer(bool complete) override { log_->push_back(complete ? "footer complete" : "footer partial"); }

 private:
  std::vector<std::string>* log_;
};

struct SessionOutcome {
  int status = 0;
  std::string err;
  std::vector<std::string> printed;
};

// One session over `rows`, ended as `end`; stderr captured.
SessionOutcome run_session(const std::string& db, bool store, const std::vector<Result>& rows, RunEnd end) {
  SessionOutcome out;
  std::ostringstream err;
  std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
  {
    RunSession<Result> session(SessionSetup{"mlspeed run", store, db, "the current iteration", 4, "configurations"},
                               sample_context(), std::make_unique<RecordingPrinter>(&out.printed),
                               [](const Result& r) { return r.status == Status::error; });
    session.begin();
    for (const Result& r : rows) session.add(r);
    out.status = session.finish(end);
  }
  std::cerr.rdbuf(old);
  out.err = err.str();
  return out;
}

Result named_row(const std::string& workload, Status status = Status::ok) {
  Result r = full_row();
  r.workload = workload;
  r.status = status;
  return r;
}

TEST(RunSession, PrintsAndStoresEachRowAndRecordsTheRun) {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const SessionOutcome out = run_session(db, true, {named_row("a"), named_row("b")}, RunEnd::complete);
  EXPECT_EQ(out.status, 0) << out.err;
  EXPECT_EQ(out.printed, (std::vector<std::string>{"header " + sample_context().command, "row a", "row b",
                                                   "footer complete"}));
  EXPECT_NE(out.err.find("mlspeed run: stored run 1 (2 results) in " + db), std::string::npos) << out.err;
  const Database stored(db, Database::Access::read_only);
  const auto runs = stored.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].kind, "run");
  EXPECT_EQ(runs[0].status, "complete");
  EXPECT_EQ(runs[0].row_count, 2);
  const auto rows = load_rows<Result>(stored, runs[0].id);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].workload, "b");
}

TEST(RunSession, TheExitStatusFollowsTheRowsAndTheEnd) {
  TempDir dir;
  EXPECT_EQ(run_session(dir.file("a.db"), true, {named_row("a"), named_row("b", Status::error)}, RunEnd::complete).status, 1);
  EXPECT_EQ(run_session(dir.file("b.db"), true, {named_row("a", Status::oom)}, RunEnd::complete).status, 0);
  const SessionOutcome interrupted = run_session(dir.file("c.db"), true, {named_row("a")}, RunEnd::interrupted);
  EXPECT_EQ(interrupted.status, 130);
  EXPECT_EQ(interrupted.printed.back(), "footer partial");
  EXPECT_NE(interrupted.err.find("interrupted after 1 of 4 configurations; kept 1 result in"), std::string::npos)
      << interrupted.err;
  EXPECT_EQ(Database(dir.file("c.db")).runs()[0].status, "interrupted");
  const SessionOutcome stopped = run_session(dir.file("d.db"), true, {named_row("a")}, RunEnd::stopped);
  EXPECT_EQ(stopped.status, 2);
  EXPECT_EQ(Database(dir.file("d.db")).runs()[0].status, "stopped");
}

TEST(RunSession, WithoutADatabaseNothingIsStoredAndNothingClaimsItWas) {
  TempDir dir;
  const std::string db = dir.file("never.db");
  const SessionOutcome out = run_session(db, false, {named_row("a")}, RunEnd::interrupted);
  EXPECT_EQ(out.status, 130);
  EXPECT_NE(out.err.find("--no-db: not stored"), std::string::npos) << out.err;
  EXPECT_EQ(out.err.find("stored run"), std::string::npos) << out.err;
  EXPECT_FALSE(path_exists(db));
}

// Standard output on a full device: the first row cannot be printed, so the run asks to stop as
// after Ctrl-C; it is recorded as interrupted with its row, and one line says why, exit status 1.
TEST(RunSession, AFailedOutputStopsTheRunKeepsItsRowsAndSaysWhyOnce) {
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string db = dir.file("results.db");
  std::ostringstream err;
  std::streambuf* old = std::cerr.rdbuf(err.rdbuf());
  int status = 0;
  {
    const CheckedOutput checked(std::cout, full);
    RunSession<Result> session(SessionSetup{"mlspeed run", true, db, "the current iteration", 4, "configurations"},
                               sample_context(), make_printer(Format::jsonl, std::cout),
                               [](const Result& r) { return r.status == Status::error; });
    session.begin();
    EXPECT_FALSE(session.stop_requested());
    session.add(named_row("a"));
    EXPECT_TRUE(session.stop_requested());
    status = session.finish(RunEnd::interrupted);
  }
  std::cerr.rdbuf(old);
  ::close(full);
  EXPECT_EQ(status, 1);
  const std::string said = err.str();
  EXPECT_TRUE(testing::contains(said, "mlspeed run: cannot write to standard output (No space left on device): "
                                      "stopped after 1 of 4 configurations; kept 1 "))
      << said;
  EXPECT_TRUE(testing::contains(said, " in " + db + " (run 1)\n")) << said;
  EXPECT_EQ(std::count(said.begin(), said.end(), '\n'), 1) << "one line: " << said;
  EXPECT_TRUE(stdout_failure_told());
  const auto runs = Database(db, Database::Access::read_only).runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "interrupted");
  EXPECT_EQ(runs[0].row_count, 1);
}

TEST(RunSession, AnUnusableDatabaseIsBadInputBeforeAnythingIsPrinted) {
  TempDir dir;
  std::vector<std::string> printed;
  EXPECT_THROW(RunSession<Result>(SessionSetup{"mlspeed run", true, dir.path(), "x", 0, ""}, sample_context(),
                                  std::make_unique<RecordingPrinter>(&printed), [](const Result&) { return false; }),
               UsageError);
  EXPECT_TRUE(printed.empty());
}

}  // namespace
}  // namespace mlspeed
