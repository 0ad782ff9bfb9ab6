// `mlspeed report`'s command line: any number of runs, the format from the output's extension.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/report_options.h"
#include "testing/command_line.h"

namespace mlspeed::cli {
namespace {

// The options of `mlspeed report` followed by `words`.
ReportOptions parse_report(std::vector<std::string> words) {
  words.insert(words.begin(), "report");
  return testing::parse_command_line(std::move(words)).options<ReportOptions>();
}
std::string report_refusal(std::vector<std::string> words) {
  words.insert(words.begin(), "report");
  return testing::usage_error(words, "");
}

TEST(ReportOptions, RunsInTheOrderGivenAndTheFormatFromTheExtension) {
  const ReportOptions o =
      parse_report({"12", "label:driver 580, beta", "ref:bert-t4", "--output", "out/Report.HTM", "--baseline", "ref:bert-t4"});
  EXPECT_EQ(o.runs, (std::vector<std::string>{"12", "label:driver 580, beta", "ref:bert-t4"}));
  EXPECT_EQ(o.format, ReportFormat::html);
  EXPECT_EQ(o.output, "out/Report.HTM");
  EXPECT_EQ(o.baseline, "ref:bert-t4");
  EXPECT_EQ(parse_report({"--output", "summary.md"}).format, ReportFormat::md);
  EXPECT_TRUE(parse_report({"--output", "x.html"}).runs.empty());
}

TEST(ReportOptions, AnUnknownExtensionOrNoOutputIsBadInput) {
  EXPECT_NE(report_refusal({"--output", "report.txt"}).find("the extension .txt"), std::string::npos);
  EXPECT_NE(report_refusal({"--output", "dir.html/report"}).find("no extension"), std::string::npos);
  EXPECT_NE(report_refusal({"12"}).find("--output report.html"), std::string::npos);
  // -o is the output format in every command; the report's file is --output, and -o says so.
  EXPECT_NE(report_refusal({"-o", "r.html"}).find("give the file as --output r.html"), std::string::npos);
}

}  // namespace
}  // namespace mlspeed::cli
