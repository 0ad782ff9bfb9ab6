#include "mlspeed/text/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace mlspeed::utf8 {
namespace {

TEST(Utf8, ValidTextHasNoBadOffset) {
  EXPECT_FALSE(invalid_offset(""));
  EXPECT_FALSE(invalid_offset("plain ASCII"));
  EXPECT_FALSE(invalid_offset("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E"));  // é € 𝄞
  EXPECT_FALSE(invalid_offset("\xF4\x8F\xBF\xBF"));                           // U+10FFFF
}

TEST(Utf8, BadSequencesAreFoundWhereTheyStart) {
  EXPECT_EQ(invalid_offset("ab\xFF"
                           "cd"),
            2u);                                        // never a lead byte
  EXPECT_EQ(invalid_offset("ab\x80"), 2u);              // stray continuation
  EXPECT_EQ(invalid_offset("abc\xE2\x82"), 3u);         // truncated at the end
  EXPECT_EQ(invalid_offset("\xC3(x"), 0u);              // not continued
  EXPECT_EQ(invalid_offset("ok \xC0\xAF"), 3u);         // overlong '/'
  EXPECT_EQ(invalid_offset("\xE0\x80\xAF"), 0u);        // overlong, 3 bytes
  EXPECT_EQ(invalid_offset("\xF0\x80\x80\xAF"), 0u);    // overlong, 4 bytes
  EXPECT_EQ(invalid_offset("x\xED\xA0\x80"), 1u);       // surrogate U+D800
  EXPECT_EQ(invalid_offset("\xF4\x90\x80\x80"), 0u);    // past U+10FFFF
  EXPECT_EQ(invalid_offset("caf\xC3\xA9 ok\xE9"), 8u);  // Latin-1 'é' after valid text
}

TEST(Utf8, DecodesAndEncodesBack) {
  const std::string text = "h\xC3\xA9llo \xE2\x82\xAC\xF0\x9D\x84\x9E";
  const std::u32string points = decode(text);
  EXPECT_EQ(points, (std::u32string{U'h', 0xE9, U'l', U'l', U'o', U' ', 0x20AC, 0x1D11E}));
  EXPECT_EQ(encode(points), text);
}

}  // namespace
}  // namespace mlspeed::utf8
