#include "mlspeed/core/lists.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

[[noreturn]] void bad(std::string_view option, const std::string& what) {
  throw UsageError(std::string(option) + ": " + what);
}

int64_t parse_int(std::string_view item, std::string_view option, int64_t minimum, const char* expected,
                  int64_t maximum = INT64_MAX) {
  const std::string s(item);
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size() || !(std::isdigit(s[0]) || s[0] == '-'))
    bad(option, "'" + s + "' is not a whole number; expected " + expected);
  if (errno == ERANGE) bad(option, "'" + s + "' is too large; expected " + expected);
  if (value < minimum || value > maximum) bad(option, "'" + s + "' is out of range; expected " + expected);
  return value;
}

}  // namespace

std::vector<std::string> split_list(std::string_view text, std::string_view option) {
  std::vector<std::string> items;
  if (text.empty()) bad(option, "the list is empty");
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    std::string item(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (item.empty())
      bad(option, "'" + std::string(text) + "' has an empty item; write a comma list like a,b,c");
    if (item.find_first_of(" \t") != std::string::npos)
      bad(option, "'" + item + "' contains a space; write a comma list without spaces like a,b,c");
    if (std::find(items.begin(), items.end(), item) != items.end())
      bad(option, "'" + item + "' is listed twice");
    items.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::vector<int64_t> parse_positive_ints(std::string_view text, std::string_view option) {
  std::vector<int64_t> values;
  for (const auto& item : split_list(text, option))
    values.push_back(parse_int(item, option, 1, "positive whole numbers up to 16777216, like 1,4,16", kMaxShapeValue));
  return values;
}

std::vector<int64_t> parse_nonnegative_ints(std::string_view text, std::string_view option) {
  std::vector<int64_t> values;
  for (const auto& item : split_list(text, option))
    values.push_back(parse_int(item, option, 0, "whole numbers from 0 up to 16777216, like 0,128,512", kMaxShapeValue));
  return values;
}

int64_t parse_positive_int(std::string_view text, std::string_view option) {
  return parse_int(text, option, 1, "a positive whole number");
}

int64_t parse_nonnegative_int(std::string_view text, std::string_view option) {
  return parse_int(text, option, 0, "a whole number >= 0");
}

int64_t parse_int_in_range(std::string_view text, std::string_view option, int64_t minimum, int64_t maximum) {
  const std::string expected = std::to_string(minimum) + " to " + std::to_string(maximum);
  return parse_int(text, option, minimum, expected.c_str(), maximum);
}

double parse_positive_seconds(std::string_view text, std::string_view option) {
  const std::string s(text);
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(value))
    bad(option, "'" + s + "' is not a number of seconds");
  if (value <= 0) bad(option, "'" + s + "' must be greater than 0 seconds");
  return value;
}

std::vector<std::string> parse_choices(std::string_view text, std::string_view option,
                                       const std::vector<std::string>& choices) {
  auto items = split_list(text, option);
  for (const auto& item : items)
    if (std::find(choices.begin(), choices.end(), item) == choices.end())
      bad(option, "unknown value '" + item + "'; choose from: " + join(choices, ", "));
  return items;
}

}  // namespace mlspeed
