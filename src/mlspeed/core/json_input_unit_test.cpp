#include "mlspeed/core/json_input.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mlspeed {
namespace {

// The message parse_json_input throws for `text`, or "no error".
std::string json_refusal(const std::string& text, JsonPlace place = {}) {
  try {
    parse_json_input<nlohmann::json>(text, place);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(JsonInput, NestingIsCountedOutsideStringsOnly) {
  EXPECT_EQ(too_deep_at("[[[]]]", 3), std::string_view::npos);
  EXPECT_EQ(too_deep_at("[[[[]]]]", 3), 3u);
  EXPECT_EQ(too_deep_at(R"({"a": [{"b": "[[[[[[\"[["}]})", 3), std::string_view::npos);
  EXPECT_EQ(too_deep_at("[][][][][]", 1), std::string_view::npos);  // side by side, not nested
  EXPECT_EQ(too_deep_at("]]]][[", 1), 5u);  // stray closers do not earn credit
}

TEST(JsonInput, DeepNestingIsRefusedAtItsByteBeforeAnythingIsBuilt) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  const std::string message = json_refusal(deep, {100, 3});
  EXPECT_EQ(message, "arrays and objects nest more than 16 levels deep at byte 116 (line 3); mlspeed reads 16 levels "
                     "(its files use 5)");
  EXPECT_EQ(json_refusal(std::string(16, '[') + std::string(16, ']')), "no error");
}

TEST(JsonInput, RefusalsSayWhereInOneShortLine) {
  EXPECT_EQ(json_refusal("{\"a\": [1,\n 2"), "the JSON ends at byte 12 (line 2) before its value is complete (cut short?)");
  EXPECT_EQ(json_refusal("  \n"), "it holds no JSON value: it is empty");
  const std::string bad = json_refusal("{\"a\": tru}", {50, 7});
  EXPECT_EQ(bad.rfind("not valid JSON at byte 59 (line 7): syntax error", 0), 0u) << bad;
  // nlohmann quotes the token it last read: a long one is cut, its control characters escaped.
  const std::string long_token = json_refusal("[\"" + std::string(5000, 'x') + "\x01\"]");
  EXPECT_LT(long_token.size(), 200u) << long_token;
  EXPECT_EQ(long_token.find('\x01'), std::string::npos) << long_token;
  EXPECT_NE(json_refusal("[1e400]").find("cannot be read"), std::string::npos);
}

TEST(JsonInput, ExcerptsAreShortPrintableAndCutBetweenCharacters) {
  EXPECT_EQ(excerpt("short"), "short");
  EXPECT_EQ(excerpt(std::string(100, 'a'), 10), "aaaaaaaaaa...");
  EXPECT_EQ(excerpt("a\nb", 10), "a\\x0ab");
  EXPECT_EQ(excerpt("±±±±±±", 5), "±±...");  // "±" is two bytes: never half of one
  EXPECT_EQ(json_excerpt(nlohmann::json::parse(R"(["a", 1])")), R"(["a",1])");
}

TEST(JsonInput, KeysReadIntoWholeNumbersOnlyFromWholeNumbers) {
  const auto j = nlohmann::json::parse(
      R"({"n": 7, "none": null, "big": 1e300, "half": 1.5, "long": 16227277869223372036854775807496, "text": "x"})");
  int64_t n = -1;
  read_json_key(j, "n", n);
  EXPECT_EQ(n, 7);
  read_json_key(j, "absent", n);
  read_json_key(j, "none", n);
  EXPECT_EQ(n, 7);  // an absent or null key leaves the value as it was
  // nlohmann's get_to would cast these (1e300 into an int64_t is undefined behaviour); a number
  // too long for 64 bits is read as a double.
  try {
    read_json_key(j, "big", n);
    ADD_FAILURE() << "1e300 read as " << n;
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "\"big\" is 1e+300, not a whole number");
  }
  int small = 0;
  EXPECT_THROW(read_json_key(j, "half", small), std::invalid_argument);
  EXPECT_THROW(read_json_key(j, "long", n), std::invalid_argument);
  EXPECT_THROW(read_json_key(j, "text", n), nlohmann::json::type_error);
  double real = 0;
  read_json_key(j, "big", real);
  EXPECT_EQ(real, 1e300);
}

}  // namespace
}  // namespace mlspeed
