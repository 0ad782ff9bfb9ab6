#include "mlspeed/core/lists.h"

#include <gtest/gtest.h>

#include "mlspeed/core/errors.h"

namespace mlspeed {
namespace {

std::string refusal_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Lists, SplitsCommaLists) {
  EXPECT_EQ(split_list("a,b,c", "--x"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split_list("one", "--x"), (std::vector<std::string>{"one"}));
}

TEST(Lists, RejectsMalformedListsNamingTheOption) {
  EXPECT_NE(refusal_of([] { split_list("1,,4", "--batch"); }).find("--batch: '1,,4' has an empty item"), std::string::npos);
  EXPECT_NE(refusal_of([] { split_list("4,", "--batch"); }).find("empty item"), std::string::npos);
  EXPECT_NE(refusal_of([] { split_list("", "--batch"); }).find("empty"), std::string::npos);
  EXPECT_NE(refusal_of([] { split_list("1, 4", "--batch"); }).find("space"), std::string::npos);
  EXPECT_NE(refusal_of([] { split_list("2,2", "--batch"); }).find("'2' is listed twice"), std::string::npos);
}

TEST(Lists, ParsesPositiveIntegers) {
  EXPECT_EQ(parse_positive_ints("1,4,16", "--batch"), (std::vector<int64_t>{1, 4, 16}));
  EXPECT_NE(refusal_of([] { parse_positive_ints("1,a", "--batch"); }).find("'a' is not a whole number"), std::string::npos);
  EXPECT_NE(refusal_of([] { parse_positive_ints("0", "--batch"); }).find("'0' is out of range"), std::string::npos);
  EXPECT_NE(refusal_of([] { parse_positive_ints("-3", "--batch"); }).find("'-3' is out of range"), std::string::npos);
  EXPECT_NE(refusal_of([] { parse_positive_ints("2.5", "--batch"); }).find("not a whole number"), std::string::npos);
  EXPECT_NE(refusal_of([] { parse_positive_ints("99999999999999999999", "--batch"); }).find("too large"), std::string::npos);
}

TEST(Lists, ParsesCountsAndSeconds) {
  EXPECT_EQ(parse_nonnegative_int("0", "--warmup"), 0);
  EXPECT_NE(refusal_of([] { parse_nonnegative_int("-1", "--warmup"); }).find("--warmup"), std::string::npos);
  EXPECT_DOUBLE_EQ(parse_positive_seconds("0.5", "--min-time"), 0.5);
  EXPECT_NE(refusal_of([] { parse_positive_seconds("0", "--min-time"); }).find("greater than 0"), std::string::npos);
  EXPECT_NE(refusal_of([] { parse_positive_seconds("soon", "--min-time"); }).find("not a number"), std::string::npos);
}

TEST(Lists, ChoicesErrorListsTheValidOnes) {
  EXPECT_EQ(parse_choices("b,a", "--x", {"a", "b"}), (std::vector<std::string>{"b", "a"}));
  const std::string e = refusal_of([] { parse_choices("a,z", "--x", {"a", "b"}); });
  EXPECT_NE(e.find("unknown value 'z'; choose from: a, b"), std::string::npos) << e;
}

}  // namespace
}  // namespace mlspeed
