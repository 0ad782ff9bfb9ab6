#include "mlspeed/verify/check_printers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "testing/check_test_rows.h"
#include "testing/text.h"

namespace mlspeed::verify {
namespace {

using testing::check_row;
using testing::expect_same_check;
using testing::full_check;

std::string print(Format format, const std::vector<CheckResult>& rows) {
  std::ostringstream out;
  auto printer = make_check_printer(format, out);
  printer->header(::mlspeed::testing::sample_context());
  for (const CheckResult& r : rows) printer->row(r);
  printer->footer(/*complete=*/true);
  return out.str();
}

using ::mlspeed::testing::contains;

// The trimmed cells of the md table's first line for `check` with `outcome`; empty if none.
std::vector<std::string> table_line(const std::string& text, const std::string& check, const std::string& outcome) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream parts(line.substr(1));
    std::string cell;
    while (std::getline(parts, cell, '|')) {
      const size_t first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    if (cells.size() > 3 && cells[1] == check && cells[3] == outcome) return cells;
  }
  return {};
}

// A passing check with its comparison figures (`ratio`: its error against its tolerance).
CheckResult passing(const std::string& check, const std::string& dtype, const std::string& layout, double ratio) {
  CheckResult c = check_row("cuda:0", check, Outcome::pass, "matches");
  c.dtype = dtype;
  c.layout = layout;
  c.elements = 4096;
  c.mismatched = 0;
  c.error_ratio = ratio;
  c.reproducible = true;
  return c;
}

class CheckMachineFormat : public ::testing::TestWithParam<Format> {};

TEST_P(CheckMachineFormat, ChecksReadBackEqualFieldByField) {
  const std::vector<CheckResult> rows = {full_check(), passing("mm", "float32", "contiguous", 1e-7),
                                         check_row("cpu", "softmax", Outcome::skipped, "not enough memory, \"8 GiB\"")};
  const std::string text = print(GetParam(), rows);
  const std::vector<CheckResult> back = parse_checks(GetParam(), text);
  ASSERT_EQ(back.size(), rows.size()) << text;
  for (size_t i = 0; i < rows.size(); ++i) expect_same_check(rows[i], back[i], "row " + std::to_string(i));
}

TEST_P(CheckMachineFormat, EachCheckIsWrittenAsItArrives) {
  std::ostringstream out;
  auto printer = make_check_printer(GetParam(), out);
  printer->header(::mlspeed::testing::sample_context());
  printer->row(full_check());
  // Before the footer, the first check is already out (so an interrupted verify keeps it).
  EXPECT_TRUE(contains(out.str(), "transposed-matmul")) << out.str();
  printer->footer(/*complete=*/true);
}

TEST_P(CheckMachineFormat, NoChecksIsStillValidOutput) {
  EXPECT_TRUE(parse_checks(GetParam(), print(GetParam(), {})).empty());
}

INSTANTIATE_TEST_SUITE_P(Formats, CheckMachineFormat, ::testing::Values(Format::json, Format::jsonl, Format::csv),
                         [](const auto& info) { return format_names()[static_cast<size_t>(info.param)]; });

TEST(CheckFormats, JsonIsAnArrayAndJsonlOneObjectPerLine) {
  const std::vector<CheckResult> rows = {full_check(), passing("mm", "float32", "contiguous", 1e-7)};
  const auto array = nlohmann::json::parse(print(Format::json, rows));
  ASSERT_TRUE(array.is_array());
  ASSERT_EQ(array.size(), 2u);
  EXPECT_EQ(array[0]["check"], "mm");
  EXPECT_EQ(array[0]["outcome"], "fail");
  EXPECT_EQ(array[0]["mismatched"], 1234);
  EXPECT_TRUE(array[1]["nan_output"].is_null());  // unknown, not zero

  std::istringstream lines(print(Format::jsonl, rows));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(nlohmann::json::parse(line).is_object()) << line;
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(CheckFormats, CsvHasAHeaderOfFieldNamesAndQuotesMessages) {
  const std::string text = print(Format::csv, {full_check()});
  EXPECT_EQ(text.rfind("run_id,timestamp,device,level,check,", 0), 0u) << text;
  EXPECT_TRUE(contains(text, ",\"3.1% of elements (1234 of 40000) off by up to 0.42, first at [3, 17]; \"\"quoted\"\", "
                             "and\nbroken\",")) << text;
}

TEST(CheckFormats, MalformedInputNamesWhereItIsWrong) {
  try {
    parse_checks(Format::jsonl, "{\"check\": \"mm\"}\n{\"outcome\": \"wrong\"}\n");
    ADD_FAILURE() << "a bad outcome was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "line 2")) << e.what();
    EXPECT_TRUE(contains(e.what(), "outcome")) << e.what();
  }
  EXPECT_THROW(parse_checks(Format::md, "| a |"), std::invalid_argument);
  EXPECT_THROW(parse_checks(Format::json, "{\"check\": \"mm\"}"), std::invalid_argument);
}

TEST(CheckMarkdown, FailuresInFullPassesSummedUpThenTheVerdict) {
  std::vector<CheckResult> rows;
  for (const char* layout : {"contiguous", "transposed", "sliced", "offset", "broadcast"})
    for (const char* dtype : {"fp32", "fp16"}) rows.push_back(passing("mm", dtype, layout, 2e-4));
  rows.push_back(passing("mm", "bf16", "contiguous", 0.0123));
  rows.back().reproducible = false;
  CheckResult bad = check_row("cuda:0", "mm", Outcome::fail, "3.1% of elements (12 of 400) off by up to 0.42");
  bad.layout = "transposed";
  bad.error_ratio = 0.42;
  rows.push_back(bad);
  CheckResult fallback = check_row("cuda:0", "cumsum", Outcome::not_tested, "ran on the CPU");
  fallback.fallback = "aten::cumsum falls back to the CPU";
  rows.push_back(fallback);
  rows.push_back(check_row("cuda:0", "softmax", Outcome::skipped, "not enough memory"));
  rows.push_back(check_row("cuda:0", "softmax", Outcome::skipped, "not enough memory"));

  const std::string text = print(Format::md, rows);
  // Columns: device, check, pass, outcome, checks, dtype, layout, variant, shape, error / tolerance, message.
  // One summary line for the 11 passing mm checks: count, dtypes listed, layouts counted, worst error.
  EXPECT_EQ(table_line(text, "mm", "pass"),
            (std::vector<std::string>{"cuda:0", "mm", "forward", "pass", "11", "fp32, fp16, bf16", "5 layouts",
                                      "", "64x64", "0.0123", "1 not reproducible (two runs differed bitwise)"}))
      << text;
  // The failure and the fallback each on their own line, with what was wrong.
  EXPECT_EQ(table_line(text, "mm", "fail"),
            (std::vector<std::string>{"cuda:0", "mm", "forward", "fail", "1", "float32", "transposed", "", "64x64", "0.42",
                                      "3.1% of elements (12 of 400) off by up to 0.42"}))
      << text;
  EXPECT_EQ(table_line(text, "cumsum", "not-tested").back(), "aten::cumsum falls back to the CPU") << text;
  const auto skipped = table_line(text, "softmax", "skipped");
  ASSERT_FALSE(skipped.empty()) << text;
  EXPECT_EQ(skipped[4], "2") << text;
  EXPECT_EQ(skipped.back(), "not enough memory") << text;
  // Then the verdict.
  EXPECT_TRUE(contains(text, "cuda:0: 15 checks: 11 passed, 1 failed, 1 not tested on the device, 2 skipped"))
      << text;
  EXPECT_TRUE(contains(text, "\nVERDICT: FAIL - 1 unexpected failure\n")) << text;
  EXPECT_LT(text.find("| device"), text.find("## Verdict")) << text;
}

TEST(CheckMarkdown, NoChecks) {
  const std::string text = print(Format::md, {});
  EXPECT_TRUE(contains(text, "no checks")) << text;
  EXPECT_TRUE(contains(text, "No checks ran")) << text;
}

}  // namespace
}  // namespace mlspeed::verify
