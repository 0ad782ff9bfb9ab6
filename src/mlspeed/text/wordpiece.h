// BERT's uncased tokenizer (Hugging Face BertTokenizer with do_lower_case=True, as
// distilbert-base-uncased uses it): a BasicTokenizer pass, then WordPiece.
//
// BasicTokenizer, in order:
//   1. drops NUL, U+FFFD and control characters (Unicode category C*; tab, CR, LF count as
//      white space) and turns white space (category Zs, tab, CR, LF) into a space;
//   2. puts spaces around CJK ideographs, so each is a word of its own;
//   3. splits on white space; lower-cases each word and strips its accents (Unicode NFD, then
//      the combining marks dropped);
//   4. splits each word on punctuation: every punctuation character is a word of its own
//      (ASCII 33-47, 58-64, 91-96, 123-126 count as punctuation, as BERT does, and Unicode
//      category P*).
// Unicode coverage, written out here rather than taken from ICU: lower-casing and accent
// stripping for ASCII, Latin-1 Supplement, Latin Extended-A, Greek and Cyrillic; combining
// marks U+0300-U+036F dropped; punctuation for ASCII, Latin-1, General Punctuation, CJK
// Symbols and Punctuation and the fullwidth forms; the common C* and Zs characters. Other
// characters pass through unchanged (as HF does for letters of other scripts with no case).
//
// WordPiece: greedy longest-match-first over each word's characters, the pieces after the first
// prefixed with "##"; a word longer than 100 characters, or with any part that matches nothing,
// becomes [UNK] as a whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlspeed::text {

// Steps 1-4 above. Precondition: `text` is valid UTF-8.
std::vector<std::string> basic_tokenize(std::string_view text);

class WordPiece {
 public:
  static constexpr size_t kMaxCharsPerWord = 100;

  // tokens[i] gets id i. Throws std::invalid_argument when [PAD], [UNK], [CLS] or [SEP] is
  // missing. A token listed twice keeps its last id (HF's load_vocab).
  explicit WordPiece(std::vector<std::string> tokens);
  // A vocab.txt: one token per line, the id is the line number (from 0); a trailing CR is
  // dropped. Throws InputFileError naming the file when it cannot be read, is not UTF-8 (with the
  // byte offset) or lacks a special token.
  static WordPiece from_file(const std::string& path);

  // The WordPiece ids of `text` (valid UTF-8), without [CLS] and [SEP]; stops after `max_ids`
  // ids (truncation, as the tokenizer's truncation=True keeps the first ones).
  std::vector<int32_t> encode(std::string_view text, size_t max_ids = std::numeric_limits<size_t>::max()) const;
  // The same as strings ("un", "##aff", "##able"), for tests and inspection.
  std::vector<std::string> tokenize(std::string_view text) const;

  int32_t id(const std::string& token) const;  // -1 when not in the vocabulary
  const std::string& token(int32_t id) const { return tokens_.at(static_cast<size_t>(id)); }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int32_t pad_id() const { return pad_; }
  int32_t unk_id() const { return unk_; }
  int32_t cls_id() const { return cls_; }
  int32_t sep_id() const { return sep_; }

 private:
  // Appends the ids of one word of the basic tokenizer ([UNK] alone if it cannot be split).
  void encode_word(const std::string& word, std::vector<int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
  int32_t pad_ = -1, unk_ = -1, cls_ = -1, sep_ = -1;
};

}  // namespace mlspeed::text
