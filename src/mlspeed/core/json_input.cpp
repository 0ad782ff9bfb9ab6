#include "mlspeed/core/json_input.h"

#include <algorithm>

namespace mlspeed {
namespace {

constexpr size_t kReasonChars = 90;  // of nlohmann's message, which may quote what it last read

// "byte 812 (line 9)": `offset` counted in `text`, placed in its file.
std::string where(std::string_view text, size_t offset, JsonPlace place) {
  offset = std::min(offset, text.size());
  const auto lines = static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
  return "byte " + std::to_string(place.byte + offset) + " (line " + std::to_string(place.line + lines) + ")";
}

// nlohmann's message without its "[json.exception.parse_error.101] parse error at line 1, column
// 5: " prefix (the place is said our way).
std::string reason(const std::string& what) {
  std::string text = what.substr(what.find(']') == std::string::npos ? 0 : what.find(']') + 2);
  if (text.rfind("parse error", 0) == 0 && text.find(": ") != std::string::npos) text = text.substr(text.find(": ") + 2);
  return excerpt(text, kReasonChars);
}

}  // namespace

size_t too_deep_at(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::string_view::npos;
}

std::string too_deep_message(std::string_view text, size_t offset, JsonPlace place) {
  return "arrays and objects nest more than " + std::to_string(kJsonDepthLimit) + " levels deep at " +
         where(text, offset, place) + "; mlspeed reads " + std::to_string(kJsonDepthLimit) +
         " levels (its files use 5)";
}

std::string json_error_message(const nlohmann::json::exception& e, std::string_view text, JsonPlace place) {
  const auto* parse = dynamic_cast<const nlohmann::json::parse_error*>(&e);
  if (!parse) return "the JSON cannot be read: " + reason(e.what());  // e.g. a number too large for a double
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return "it holds no JSON value: it is empty";
  // The lexer counts the end of the input as a character read.
  if (parse->byte > text.size())
    return "the JSON ends at " + where(text, text.size(), place) + " before its value is complete (cut short?)";
  return "not valid JSON at " + where(text, parse->byte > 0 ? parse->byte - 1 : 0, place) + ": " + reason(e.what());
}

}  // namespace mlspeed
