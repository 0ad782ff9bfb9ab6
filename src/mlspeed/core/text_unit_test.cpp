#include "mlspeed/core/text.h"

#include <gtest/gtest.h>

namespace mlspeed {
namespace {

// Text read from files (labels, host names, messages) may hold escape sequences and line breaks:
// what mlspeed prints for people shows them as \xNN, on one line.
const std::string kControlText = std::string("a\x1b[2J\x07") + '\0' + "b\nc\r\x7f";

TEST(Text, PrintableEscapesEveryControlCharacter) {
  EXPECT_EQ(printable(kControlText), "a\\x1b[2J\\x07\\x00b\\x0ac\\x0d\\x7f");
  EXPECT_EQ(printable("naïve ±"), "naïve ±");  // UTF-8 stays as it is
}

TEST(Text, OneLineKeepsAMessageOnOneLineWithNoControlCharacter) {
  EXPECT_EQ(one_line(kControlText), "a\\x1b[2J\\x07\\x00b c \\x7f");
}

TEST(Text, MarkdownCellsHoldNoControlCharacter) {
  const std::string table = markdown_table({"name"}, {false}, {{kControlText}});
  EXPECT_NE(table.find("| a\\x1b[2J\\x07\\x00b c \\x7f |"), std::string::npos) << table;
}

}  // namespace
}  // namespace mlspeed
