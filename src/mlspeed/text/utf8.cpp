#include "mlspeed/text/utf8.h"

#include <cstdint>

namespace mlspeed::utf8 {
namespace {

// The length of the sequence a lead byte starts (0: not a lead byte).
int sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;  // 0xC0, 0xC1 would only start overlong forms
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;  // past 0xF4 lies beyond U+10FFFF
  return 0;
}

bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

std::optional<size_t> invalid_offset(std::string_view text) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    const int length = sequence_length(lead);
    if (length == 0) return i;
    for (int k = 1; k < length; ++k)
      if (i + k >= n || !is_continuation(bytes[i + k])) return i;  // truncated sequence
    // The second byte's range rules out overlong 3- and 4-byte forms, surrogates and > U+10FFFF.
    const uint8_t second = bytes[i + 1];
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) || (lead == 0xF0 && second < 0x90) ||
        (lead == 0xF4 && second > 0x8F))
      return i;
    i += static_cast<size_t>(length);
  }
  return std::nullopt;
}

std::u32string decode(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t lead = bytes[i];
    const int length = sequence_length(lead);
    if (length <= 1) {  // ASCII (or, against the precondition, a bad byte taken as is)
      out.push_back(lead);
      ++i;
      continue;
    }
    char32_t cp = lead & (0x7F >> length);
    for (int k = 1; k < length && i + k < n; ++k) cp = (cp << 6) | (bytes[i + k] & 0x3F);
    out.push_back(cp);
    i += static_cast<size_t>(length);
  }
  return out;
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t cp : code_points) append(out, cp);
  return out;
}

}  // namespace mlspeed::utf8
