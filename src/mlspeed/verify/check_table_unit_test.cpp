// The md table of checks (checks_table): the same failure in several dtypes, layouts or shapes
// is one line with a count, and the error column is the figure the tolerance tested.
#include <gtest/gtest.h>

#include <sstream>

#include "mlspeed/verify/check_printers.h"
#include "testing/check_test_rows.h"

namespace mlspeed::verify {
namespace {

using testing::check_row;

// The trimmed cells of every table line whose check is `check`.
std::vector<std::vector<std::string>> lines_of(const std::string& table, const std::string& check) {
  std::vector<std::vector<std::string>> out;
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::istringstream parts(line.substr(1));
    for (std::string cell; std::getline(parts, cell, '|');) {
      const size_t first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    if (cells.size() > 3 && cells[1] == check) out.push_back(cells);
  }
  return out;
}

CheckResult failing(const std::string& dtype, const std::string& layout, const std::string& message) {
  CheckResult row = check_row("cuda:0", "conv2d", Outcome::error, message);
  row.dtype = dtype;
  row.layout = layout;
  return row;
}

TEST(ChecksTable, TheSameFailureInSeveralDtypesAndLayoutsIsOneLine) {
  const std::vector<CheckResult> rows = {
      failing("bf16", "contiguous", "\"slow_conv2d_cpu\" not implemented for 'BFloat16'"),
      failing("bf16", "transposed", "\"slow_conv2d_cpu\" not implemented for 'BFloat16'"),
      failing("fp16", "contiguous", "\"slow_conv2d_cpu\" not implemented for 'Half'"),
      failing("fp32", "strided", "CUDA error: an illegal memory access"),
  };
  const auto lines = lines_of(checks_table(rows), "conv2d");
  ASSERT_EQ(lines.size(), 2u) << checks_table(rows);
  // Columns: device, check, pass, outcome, checks, dtype, layout, variant, shape, error / tolerance, message.
  EXPECT_EQ(lines[0], (std::vector<std::string>{"cuda:0", "conv2d", "forward", "error", "3", "bf16, fp16",
                                                "contiguous, transposed", "", "64x64", "-",
                                                "\"slow_conv2d_cpu\" not implemented for '<dtype>'"}));
  EXPECT_EQ(lines[1][4], "1");
  EXPECT_EQ(lines[1].back(), "CUDA error: an illegal memory access");
}

TEST(ChecksTable, AMessageSaidWordForWordIsShownAsItIsAndOtherChecksStayApart) {
  CheckResult view = failing("fp32", "out-strided", "2 elements outside the out-strided view changed");
  CheckResult other_view = failing("fp32", "inplace-view", "2 elements outside the inplace-view view changed");
  CheckResult same = failing("fp64", "contiguous", "the output is all zeros");
  CheckResult again = failing("fp32", "contiguous", "the output is all zeros");
  CheckResult elsewhere = again;
  elsewhere.check = "conv1d";
  const std::string table = checks_table({view, other_view, same, again, elsewhere});
  const auto lines = lines_of(table, "conv2d");
  ASSERT_EQ(lines.size(), 2u) << table;
  EXPECT_EQ(lines[0][4], "2");
  EXPECT_EQ(lines[0].back(), "2 elements outside the <layout> view changed");
  EXPECT_EQ(lines[1][4], "2");
  EXPECT_EQ(lines[1][5], "fp64, fp32");
  EXPECT_EQ(lines[1].back(), "the output is all zeros");
  EXPECT_EQ(lines_of(table, "conv1d").size(), 1u) << table;
}

TEST(ChecksTable, TheErrorColumnIsTheErrorAgainstItsTolerance) {
  CheckResult small = check_row("cpu", "mm", Outcome::pass, "matches");
  small.max_rel_error = 473;  // next to a near-zero reference: says nothing about the tolerance
  small.error_ratio = 0.25;
  CheckResult worse = small;
  worse.error_ratio = 0.5;
  worse.max_rel_error = 0.01;
  CheckResult off = check_row("cpu", "mm", Outcome::fail, "1% of elements off");
  off.error_ratio = 640;
  const std::string table = checks_table({small, worse, off});
  EXPECT_NE(table.find("error / tolerance"), std::string::npos) << table;
  const auto lines = lines_of(table, "mm");
  ASSERT_EQ(lines.size(), 2u) << table;
  EXPECT_EQ(lines[0][9], "0.5");
  EXPECT_EQ(lines[1][9], "640");
  EXPECT_EQ(table.find("473"), std::string::npos) << table;
}

}  // namespace
}  // namespace mlspeed::verify
