// The few Unicode character properties BERT's BasicTokenizer asks for, written out for the
// ranges English text (and the IMDB reviews) uses; see wordpiece.h for the coverage. Python's
// tokenizer reads them from unicodedata; mlspeed has no ICU, so the tables are here.
#pragma once

#include <string>

namespace mlspeed::text::unicode {

bool is_whitespace(char32_t c);   // space, tab, CR, LF, category Zs
bool is_control(char32_t c);      // category C*, except tab, CR, LF (those are white space)
bool is_punctuation(char32_t c);  // ASCII symbols (BERT's rule) and category P*
bool is_cjk(char32_t c);          // CJK Unified Ideographs and their extensions, compatibility ideographs

// Lower case, then accents stripped (NFD with the combining marks dropped), appended to `out`:
// 'É' -> 'e', 'Й' -> 'и', U+0301 -> nothing. Characters outside the covered ranges are
// appended unchanged.
void append_uncased(char32_t c, std::u32string& out);

}  // namespace mlspeed::text::unicode
