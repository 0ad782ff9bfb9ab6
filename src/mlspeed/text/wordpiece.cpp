#include "mlspeed/text/wordpiece.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/text/unicode.h"
#include "mlspeed/text/utf8.h"

namespace mlspeed::text {
namespace {

void flush(std::u32string& word, std::vector<std::string>& words) {
  if (word.empty()) return;
  words.push_back(utf8::encode(word));
  word.clear();
}

}  // namespace

std::vector<std::string> basic_tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::u32string word;
  for (char32_t c : utf8::decode(text)) {
    if (c == 0 || c == 0xFFFD || unicode::is_control(c)) continue;  // _clean_text
    if (unicode::is_whitespace(c)) {
      flush(word, words);
    } else if (unicode::is_cjk(c) || unicode::is_punctuation(c)) {
      // A CJK ideograph is a word of its own (_tokenize_chinese_chars), and so is punctuation
      // (_run_split_on_punc). Neither is changed by lower-casing or accent stripping.
      flush(word, words);
      word.push_back(c);
      flush(word, words);
    } else {
      unicode::append_uncased(c, word);  // lower() then _run_strip_accents
    }
  }
  flush(word, words);
  return words;
}

WordPiece::WordPiece(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  ids_.reserve(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) ids_[tokens_[i]] = static_cast<int32_t>(i);
  std::string missing;
  const auto special = [&](const char* name) {
    const int32_t found = id(name);
    if (found < 0) missing += std::string(missing.empty() ? "" : ", ") + name;
    return found;
  };
  pad_ = special("[PAD]");
  unk_ = special("[UNK]");
  cls_ = special("[CLS]");
  sep_ = special("[SEP]");
  if (!missing.empty()) throw std::invalid_argument("the vocabulary has no " + missing + " token");
}

WordPiece WordPiece::from_file(const std::string& path) {
  const auto file = read_whole_file(path);
  if (!file) throw InputFileError(path + ": cannot be read (expected a WordPiece vocab.txt, one token per line)");
  const std::string& content = *file;
  if (auto bad = utf8::invalid_offset(content)) {
    const auto line = 1 + std::count(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(*bad), '\n');
    throw InputFileError(path + ": not valid UTF-8 at byte offset " + std::to_string(*bad) + " (line " +
                         std::to_string(line) + "); a vocab.txt holds one UTF-8 token per line");
  }
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string token = content.substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    tokens.push_back(std::move(token));
    start = end + 1;
  }
  const size_t lines = tokens.size();
  try {
    return WordPiece(std::move(tokens));
  } catch (const std::invalid_argument& e) {
    throw InputFileError(path + ": " + e.what() + " (" + std::to_string(lines) +
                         " lines read); is it BERT's WordPiece vocab.txt?");
  }
}

int32_t WordPiece::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

void WordPiece::encode_word(const std::string& word, std::vector<int32_t>& out) const {
  // Byte offsets of the character boundaries: the pieces are cut between characters.
  std::vector<size_t> bounds;
  for (size_t i = 0; i < word.size(); ++i)
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) bounds.push_back(i);
  bounds.push_back(word.size());
  const size_t chars = bounds.size() - 1;
  if (chars > kMaxCharsPerWord) {
    out.push_back(unk_);
    return;
  }
  const size_t first_piece = out.size();
  std::string candidate;
  size_t start = 0;
  while (start < chars) {
    int32_t found = -1;
    size_t end = chars;
    for (; end > start; --end) {  // the longest piece first
      candidate.assign(start > 0 ? "##" : "");
      candidate.append(word, bounds[start], bounds[end] - bounds[start]);
      found = id(candidate);
      if (found >= 0) break;
    }
    if (found < 0) {  // some part matches nothing: the whole word is unknown
      out.resize(first_piece);
      out.push_back(unk_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

std::vector<int32_t> WordPiece::encode(std::string_view text, size_t max_ids) const {
  std::vector<int32_t> ids;
  for (const std::string& word : basic_tokenize(text)) {
    if (ids.size() >= max_ids) break;
    encode_word(word, ids);
  }
  if (ids.size() > max_ids) ids.resize(max_ids);
  return ids;
}

std::vector<std::string> WordPiece::tokenize(std::string_view text) const {
  std::vector<std::string> pieces;
  for (int32_t i : encode(text)) pieces.push_back(token(i));
  return pieces;
}

}  // namespace mlspeed::text
