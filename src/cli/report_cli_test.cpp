// `mlspeed report` end to end: the default runs (the newest speed run and the verify run of its
// host) as a markdown summary and an HTML page with Chart.js inlined, runs named on the command
// line with speedups, and bad input refused with exit status 2 without touching the output file.
// The page in a real browser is scripts/report_browser_test.py.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlspeed/core/files.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::read_file;
using testing::run_cli;
using testing::TempDir;

// Two tiny CPU runs of BERT (the second labelled) and a verify run, in a fresh database.
class ReportCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    folder_ = new TempDir();
    db_ = folder_->file("results.db");
    const std::vector<std::string> tiny = {
        "run", "-w", "bert-base-infer", "--sizes", "tiny", "-d",    "cpu",  "-b", "1,2",
        "-n",  "5",  "--warmup",        "1",       "-o",   "jsonl", "--db", db_};
    ASSERT_EQ(run_cli(tiny).exit_code, 0);
    std::vector<std::string> labelled = tiny;
    labelled.insert(labelled.end(), {"--label", "after update"});
    ASSERT_EQ(run_cli(labelled).exit_code, 0);
    const auto v =
        run_cli({"verify", "-d", "cpu", "--level", "op", "--ops", "mm", "--quick", "-o", "jsonl", "--db", db_});
    ASSERT_EQ(v.exit_code, 0) << v.err;
  }
  static void TearDownTestSuite() { delete folder_; }

  testing::CliResult report(std::vector<std::string> args) {
    args.insert(args.begin(), "report");
    args.insert(args.end(), {"--db", db_});
    return run_cli(args);
  }

  static TempDir* folder_;
  static std::string db_;
  TempDir out_;
};

TempDir* ReportCommand::folder_ = nullptr;
std::string ReportCommand::db_;

TEST_F(ReportCommand, TheDefaultIsTheNewestSpeedRunWithTheVerdictsOfItsHost) {
  const std::string md = out_.file("summary.md");
  const auto r = report({"--output", md});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = read_file(md);
  EXPECT_NE(text.find("## bert-base-infer"), std::string::npos) << text;
  EXPECT_NE(text.find("fp32 b2 s16 (tiny)"), std::string::npos) << text;
  EXPECT_NE(text.find("after update"), std::string::npos) << "the newest run's label: " << text;
  EXPECT_NE(text.find("## Verification"), std::string::npos) << text;
  EXPECT_NE(text.find("| PASS"), std::string::npos) << text;
  EXPECT_NE(r.err.find("wrote " + md), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(md + ".partial"));
}

TEST_F(ReportCommand, NamedRunsGiveAPageWithChartsAndSpeedupsAgainstTheBaseline) {
  const std::string html = out_.file("report.html");
  const auto r = report({"1", "2", "--baseline", "2", "--output", html});
  if (r.exit_code == 2 && r.err.find("built without Chart.js") != std::string::npos) {
    // A build that found no libjs-chart.js refuses HTML, says what to install, and writes nothing.
    EXPECT_NE(r.err.find("libjs-chart.js"), std::string::npos) << r.err;
    EXPECT_FALSE(path_exists(html));
    GTEST_SKIP() << "built without Chart.js: the page itself is not tested";
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string page = read_file(html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("Chart.js v"), std::string::npos) << "Chart.js inlined";
  for (const char* metric : {"throughput", "speedup", "mfu"})
    EXPECT_NE(page.find("data-metric=\"" + std::string(metric) + "\""), std::string::npos) << metric;
  EXPECT_NE(r.err.find("speedups against"), std::string::npos) << r.err;
}

TEST_F(ReportCommand, BadInputIsRefusedWithExitStatus2AndTheOldReportKept) {
  const std::string html = out_.file("report.html");
  testing::write_file(html, "the previous report");
  auto r = report({"99", "--output", html});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(read_file(html), "the previous report");

  r = report({"--output", out_.file("report.txt")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the extension .txt"), std::string::npos) << r.err;
  EXPECT_FALSE(path_exists(out_.file("report.txt")));

  r = report({"1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--output report.html"), std::string::npos) << r.err;

  r = report({"--output", out_.file("no/such/folder/report.md")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("choose a path you can write"), std::string::npos) << r.err;

  r = run_cli({"report", "--output", out_.file("x.md"), "--db", out_.file("none.db")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no results database"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mlspeed
