// --label on run and verify, and the options of history, export and import, parsed as the binary
// parses them; nothing runs.
#include <gtest/gtest.h>

#include "cli/history_options.h"
#include "cli/run_file_options.h"
#include "cli/run_options.h"
#include "cli/verify_options.h"
#include "testing/command_line.h"

namespace mlspeed::cli {
namespace {

std::string refusal(const std::vector<std::string>& words) { return testing::usage_error(words, "accepted"); }

TEST(LabelOption, RunAndVerifyTakeFreeText) {
  EXPECT_EQ(testing::parse_command_line({"run", "--label", "driver 580"}).options<RunOptions>().label, "driver 580");
  EXPECT_EQ(testing::parse_command_line({"verify", "--label", "after update: ü"}).options<VerifyOptions>().label, "after update: ü");
  EXPECT_EQ(testing::parse_command_line({"run"}).options<RunOptions>().label, "");
}

TEST(LabelOption, RefusesEmptyControlCharactersAndNoDb) {
  EXPECT_NE(refusal({"run", "--label", ""}).find("--label: the label is empty"), std::string::npos);
  EXPECT_NE(refusal({"run", "--label", "  "}).find("the label is empty"), std::string::npos);
  EXPECT_NE(refusal({"verify", "--label", "a\tb"}).find("control character"), std::string::npos);
  const std::string newline = refusal({"run", "--label", "a\nb"});
  EXPECT_NE(newline.find("a\\x0ab"), std::string::npos) << newline;  // shown escaped, on one line
  EXPECT_NE(refusal({"run", "--label", "x", "--no-db"}).find("--no-db stores nothing"), std::string::npos);
  EXPECT_NE(refusal({"verify", "--label", "x", "--no-db"}).find("--no-db stores nothing"), std::string::npos);
}

TEST(HistoryOptions, FiltersParse) {
  const HistoryOptions o =
      testing::parse_command_line({"history", "-w", "bert-base-infer", "-d", "cuda", "--since", "2026-11-23", "--label", "a", "--limit", "5",
             "-o", "json", "--db", "x.db"}).options<HistoryOptions>();
  EXPECT_EQ(o.filter.workload, "bert-base-infer");
  EXPECT_EQ(o.filter.device, "cuda");
  EXPECT_EQ(o.filter.since, "2026-11-23");
  EXPECT_EQ(o.filter.label, "a");
  EXPECT_EQ(o.filter.limit, 5);
  EXPECT_EQ(o.format, Format::json);
  EXPECT_EQ(o.db, "x.db");
}

TEST(HistoryOptions, BadValuesAreRefused) {
  EXPECT_NE(refusal({"history", "--since", "last week"}).find("--since: 'last week' is not a date"), std::string::npos);
  EXPECT_NE(refusal({"history", "--limit", "0"}).find("--limit"), std::string::npos);
  EXPECT_NE(refusal({"history", "-o", "jsonl"}).find("choose from: md, json, csv"), std::string::npos);
}

TEST(ExportImportOptions, Parse) {
  EXPECT_EQ(testing::parse_command_line({"export"}).options<ExportOptions>().run, "last");
  const ExportOptions e =
      testing::parse_command_line({"export", "label:driver 580", "--output", "out.json"}).options<ExportOptions>();
  EXPECT_EQ(e.run, "label:driver 580");
  EXPECT_EQ(e.output, "out.json");
  EXPECT_NE(refusal({"import"}).find("give the file to import"), std::string::npos);
  EXPECT_NE(refusal({"import", "/no/such/file.json"}).find("does not exist"), std::string::npos);
  // -o is the output format everywhere; a file is --output, and -o says so.
  EXPECT_NE(refusal({"export", "-o", "out.json"}).find("give the file as --output out.json"), std::string::npos);
}

}  // namespace
}  // namespace mlspeed::cli
