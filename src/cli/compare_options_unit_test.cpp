// `mlspeed compare`'s command line, parsed as the binary parses it; nothing runs.
#include <gtest/gtest.h>

#include "cli/compare_options.h"
#include "cli/show_options.h"
#include "testing/command_line.h"

namespace mlspeed::cli {
namespace {

using testing::usage_error;
TEST(CompareOptions, TheTableIsWellFormed) {
  for (const auto& spec : compare_option_table()) {
    EXPECT_FALSE(spec.help.empty()) << spec.long_name();
    if (!spec.value_name.empty()) EXPECT_FALSE(spec.default_shown().empty()) << spec.long_name();
  }
  EXPECT_NO_THROW(parse_options(compare_option_table(), {})) << "a default does not parse";
}

TEST(CompareOptions, RunsAndSettingsParse) {
  const CompareOptions o = testing::parse_command_line({"compare", "12", "label:driver 580", "ref:bert-t4", "--threshold", "2.5", "--alpha",
                                  "0.01", "--fail-if-slower", "10", "-o", "csv"}).options<CompareOptions>();
  EXPECT_EQ(o.runs, (std::vector<std::string>{"12", "label:driver 580", "ref:bert-t4"}));
  EXPECT_DOUBLE_EQ(o.settings.threshold, 0.025);
  EXPECT_DOUBLE_EQ(o.settings.alpha, 0.01);
  ASSERT_TRUE(o.fail_if_slower);
  EXPECT_DOUBLE_EQ(*o.fail_if_slower, 10);
  EXPECT_EQ(o.format, Format::csv);
  EXPECT_TRUE(o.devices.empty());
}

TEST(CompareOptions, DefaultsAreGoogleBenchmarksAlphaAndAFivePercentEffect) {
  const CompareOptions o = testing::parse_command_line({"compare", "last-1", "last"}).options<CompareOptions>();
  EXPECT_DOUBLE_EQ(o.settings.alpha, 0.05);
  EXPECT_DOUBLE_EQ(o.settings.threshold, 0.05);
  EXPECT_FALSE(o.fail_if_slower);
  EXPECT_EQ(o.format, Format::md);
}

TEST(CompareOptions, OptionsBeforeTheRunsTakeOneValueEach) {
  EXPECT_EQ(testing::parse_command_line({"compare", "--alpha", "0.01", "3", "4"}).options<CompareOptions>().runs, (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(testing::parse_command_line({"show", "-o", "csv", "12"}).options<ShowOptions>().run, "12");
}

TEST(CompareOptions, DevicesOfOneRun) {
  const CompareOptions o = testing::parse_command_line({"compare", "last", "--devices", "cpu,cuda:0"}).options<CompareOptions>();
  EXPECT_EQ(o.devices, (std::vector<std::string>{"cpu", "cuda:0"}));
  EXPECT_NE(usage_error({"compare", "1", "2", "--devices", "cpu,cuda:0"}).find("give one run (got 2)"), std::string::npos);
  EXPECT_NE(usage_error({"compare", "1", "--devices", "cpu"}).find("two devices or more"), std::string::npos);
}

TEST(CompareOptions, BadInputIsRefusedWithWhatToDo) {
  EXPECT_NE(usage_error({"compare", "last"}).find("one run given: compare needs two runs"), std::string::npos);
  EXPECT_NE(usage_error({"compare"}).find("no runs given"), std::string::npos);
  EXPECT_NE(usage_error({"compare", "1", "2", "--alpha", "1.5"}).find("--alpha: '1.5'"), std::string::npos);
  EXPECT_NE(usage_error({"compare", "1", "2", "--alpha", "0"}).find("--alpha"), std::string::npos);
  EXPECT_NE(usage_error({"compare", "1", "2", "--threshold", "5%"}).find("--threshold: '5%'"), std::string::npos);
  EXPECT_NE(usage_error({"compare", "1", "2", "--fail-if-slower", "-1"}).find("--fail-if-slower"), std::string::npos);
  EXPECT_NE(usage_error({"compare", "1", "--list-references"}).find("takes no runs"), std::string::npos);
  EXPECT_TRUE(testing::parse_command_line({"compare", "--list-references"}).options<CompareOptions>().list_references);
}

}  // namespace
}  // namespace mlspeed::cli
