// GPT-2's byte-level BPE tokenizer, as OpenAI's encoder.py (gpt-2/src/encoder.py) and Hugging
// Face's GPT2Tokenizer run it, from the two files the `gpt2` repository ships:
//   encoder.json  {"token": id, ...}: each token is a string of "byte characters"
//   vocab.bpe     "#version: 0.2", then one merge a line, "first second", best (lowest rank) first
// or from the same held in memory (a GGUF file's tokenizer.ggml.tokens and tokenizer.ggml.merges:
// Gpt2BpeVocabulary), where some tokens may be special tokens that stand for their own text.
//
// encode: text -> pre-tokens by a pattern (BpePreTokenizer): GPT-2's
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   or Llama 3's
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   -> each pre-token's UTF-8 bytes mapped to printable characters (bytes_to_unicode: a space is
//   "Ġ", a newline "Ċ") -> merged pairwise by rank until no ranked pair is left -> ids.
// decode: ids -> tokens -> bytes -> UTF-8 text.
//
// The patterns are matched by hand over code points (std::regex has no \p{L}), alternative by
// alternative as the `regex` module does, with its complete Unicode tables for \p{L}, \p{N} and
// \s (text/unicode_classes.h). Bytes that are not valid UTF-8 (which a Python str cannot hold)
// are pre-tokenised as one "other" character each, so any byte string encodes and decodes back.
// Llama 3's case-insensitive contractions match ASCII letters only ('S, 'LL), as llama.cpp's
// adaptation of the pattern ('[sS]|'[tT]|...) does.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlspeed::text {

// The pattern that splits text into pre-tokens before merging (a GGUF file's tokenizer.ggml.pre).
enum class BpePreTokenizer { gpt2, llama3 };

// A vocabulary held in memory, as a GGUF file carries it.
struct Gpt2BpeVocabulary {
  std::vector<std::string> tokens;  // id -> token: byte characters, or its own text where `literal`
  // id -> the token is a special token ("<|eot_id|>"): never the result of a merge, decoded as
  // written. Empty: none is.
  std::vector<bool> literal;
  std::vector<std::string> merges;  // "first second", best (rank 0) first
  BpePreTokenizer pre = BpePreTokenizer::gpt2;
  // A pre-token that is a token as a whole becomes that token without merging (Llama 3's
  // tokenizer.json sets ignore_merges; llama.cpp does the same for its pre-tokenizer).
  bool ignore_merges = false;
  // What the error messages call the two lists.
  std::string tokens_name = "tokens", merges_name = "merges";
};

class Gpt2Bpe {
 public:
  // Reads DIR/encoder.json and DIR/vocab.bpe.
  static Gpt2Bpe from_directory(const std::string& dir);
  // Throws InputFileError naming the file and, for a malformed one, the line (vocab.bpe) or the
  // byte offset and line (encoder.json) and what was expected. Every merge's two symbols and
  // their concatenation must be tokens of encoder.json, and it must have a token for each of
  // the 256 bytes, so every text can be encoded. GPT-2's pre-tokenizer.
  Gpt2Bpe(const std::string& encoder_json_path, const std::string& vocab_bpe_path);
  // The same checks on a vocabulary in memory; the messages name its lists (tokens_name, with
  // the id; merges_name, with the entry, from 0). A token listed twice keeps its first id.
  explicit Gpt2Bpe(const Gpt2BpeVocabulary& vocabulary);

  std::vector<int64_t> encode(std::string_view text) const;
  // The bytes of the tokens, concatenated; throws std::out_of_range for an id that is no token.
  std::string decode_bytes(const std::vector<int64_t>& ids) const;
  // decode_bytes as UTF-8 text; byte sequences that are not UTF-8 become U+FFFD, one per maximal
  // invalid subpart, as Python's bytes.decode('utf-8', errors='replace') in encoder.py.
  std::string decode(const std::vector<int64_t>& ids) const;

  int64_t vocab_size() const { return static_cast<int64_t>(decoder_.size()); }  // largest id + 1
  bool has_id(int64_t id) const;
  size_t merges() const { return ranks_.size(); }

  BpePreTokenizer pre_tokenizer() const { return pre_; }

  // The pre-tokens of GPT-2's pattern, or of `pre`'s, as byte strings (exposed for tests).
  static std::vector<std::string> pre_tokenize(std::string_view text);
  static std::vector<std::string> pre_tokenize(std::string_view text, BpePreTokenizer pre);

 private:
  Gpt2Bpe(std::string source, BpePreTokenizer pre, bool ignore_merges);
  // Throws unless each of the 256 bytes has a token; `where` begins the message.
  void check_byte_tokens(const std::string& where) const;
  // Checks one merge, "first second", and ranks it next: -1, or the rank it already has (a
  // repeat, which the caller refuses). `where` begins the messages ("vocab.bpe line 3: "),
  // `tokens` names the token list.
  int add_merge(const std::string& merge, const std::string& where, const std::string& tokens);
  std::vector<int64_t> bpe(const std::string& piece) const;

  std::string source_;  // what decode's errors name: encoder.json's path, or the token list
  BpePreTokenizer pre_;
  bool ignore_merges_;
  std::unordered_map<std::string, int64_t> encoder_;  // byte-level token -> id (no special tokens)
  std::vector<std::string> decoder_;                  // id -> token's bytes (empty: no such id)
  std::vector<bool> known_;                           // id -> is a token
  std::unordered_map<std::string, int> ranks_;        // "first second" -> rank
  struct Cache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int64_t>> ids;  // pre-token bytes -> ids
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();  // behind a pointer: the class moves
};

// Replaces every maximal invalid UTF-8 subpart of `bytes` with U+FFFD.
std::string utf8_replace_invalid(std::string_view bytes);

}  // namespace mlspeed::text
