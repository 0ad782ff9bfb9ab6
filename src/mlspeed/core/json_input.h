// JSON from outside mlspeed: the files a user gives (run files, `show -o json|jsonl` output) and
// what another program may have written into the results database. nlohmann's parser does not
// recurse, but dump(), comparisons and copies of what it builds do: a value nested 100,000 deep
// (200 KB of brackets) overflows the stack. Nothing mlspeed writes nests more than a few levels,
// so deeper nesting is refused before any value is built, naming the byte where it goes too deep.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "mlspeed/core/text.h"

namespace mlspeed {

// Levels of arrays and objects read. A run file uses 5 (the file, its context, the devices, a
// device, its peaks); the margin leaves room for the format to grow.
inline constexpr int kJsonDepthLimit = 16;

// Where `text` starts in its file, so that a message about one line of a JSON-lines file, or one
// column of a database, places it in the file.
struct JsonPlace {
  size_t byte = 0;
  size_t line = 1;
};

// The offset of the first '[' or '{' of `text` (outside strings) that opens a level deeper than
// `limit`, or npos when there is none.
size_t too_deep_at(std::string_view text, int limit = kJsonDepthLimit);

// One-line messages: nesting too deep at `offset`, and what nlohmann refused, with the byte and
// line it refused at and its reason cut short ("the JSON ends at byte 812 (line 9) before its
// value is complete" for a file cut short).
std::string too_deep_message(std::string_view text, size_t offset, JsonPlace place);
std::string json_error_message(const nlohmann::json::exception& e, std::string_view text, JsonPlace place);

// `text` as one JSON value (Json: nlohmann::json or nlohmann::ordered_json). Throws
// std::invalid_argument with one of the messages above.
template <class Json> Json parse_json_input(std::string_view text, JsonPlace place = {}) {
  if (const size_t deep = too_deep_at(text); deep != std::string_view::npos)
    throw std::invalid_argument(too_deep_message(text, deep, place));
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(json_error_message(e, text, place));
  }
}

// A JSON value quoted in a message: the start of its text, control characters escaped.
template <class Json> std::string json_excerpt(const Json& value) { return excerpt(value.dump()); }

// `object[key]` into `out`, where it is present and not null (else `out` keeps its value: a file
// of an older mlspeed lacks the keys added since), as nlohmann's get_to reads it, except that a
// whole number is read from a whole number only: get_to casts 1.5 to 1, and 1e300 to anything at
// all (the cast is undefined behaviour). Throws std::invalid_argument for such a number, and
// nlohmann's type_error for a value of another type.
template <class Json, class T> void read_json_key(const Json& object, const char* key, T& out) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (it->is_number_float())
      throw std::invalid_argument(std::string("\"") + key + "\" is " + json_excerpt(*it) + ", not a whole number");
  }
  it->get_to(out);
}

}  // namespace mlspeed
