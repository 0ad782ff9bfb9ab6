// UTF-8 checked and decoded by hand (RFC 3629): the text readers need the byte offset of the
// first bad byte for their error messages, which no standard facility gives.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlspeed::utf8 {

// The byte offset where the first invalid sequence starts (as Python's UnicodeDecodeError
// reports it): a stray continuation byte, a byte that never starts a sequence, a truncated
// sequence, an overlong form, a surrogate (U+D800 to U+DFFF) or a code point past U+10FFFF.
// Empty when the whole text is valid.
std::optional<size_t> invalid_offset(std::string_view text);

// The code points of valid UTF-8 text (precondition: !invalid_offset(text)).
std::u32string decode(std::string_view text);

// Appends the UTF-8 encoding of `code_point` (at most U+10FFFF, not a surrogate).
void append(std::string& out, char32_t code_point);
std::string encode(std::u32string_view code_points);

}  // namespace mlspeed::utf8
