// The SentencePiece BPE tokenizer of a GGUF file whose `tokenizer.ggml.model` is "llama" (Llama 2,
// TinyLlama, Mistral: 32,000 tokens), as SentencePiece itself (Hugging Face's slow
// LlamaTokenizer, legacy behaviour) and llama.cpp's SPM tokenizer run it on plain text.
//
// The vocabulary: tokens[i] is the piece of id i, "▁" (U+2581) standing for a space; scores[i]
// its merge priority (higher merges first); types[i] its kind (LlamaTokenType). Byte tokens are
// "<0x00>" ... "<0xFF>", for the bytes of characters that have no piece of their own.
//
// encode(text):
//   1. normalise: a space in front when add_space_prefix (only for non-empty text), then every
//      ' ' replaced by "▁" (no other normalisation: Llama's model keeps runs of spaces);
//   2. split into symbols: a user-defined token where one starts (the longest; it never merges),
//      else one UTF-8 character, else (a byte that starts no valid character) one byte;
//   3. merge: repeatedly the adjacent pair whose concatenation is a normal, user-defined or
//      unused token with the HIGHEST score (ties: the leftmost pair), until no pair merges;
//   4. each final symbol becomes its token's id; a merged unused token is split back into the
//      two symbols it was made of (SentencePiece's resegmentation); a symbol with no token
//      becomes the byte tokens of its bytes (byte fallback), or the unknown id when the
//      vocabulary has no byte tokens.
//   BOS in front when add_bos, EOS at the end when add_eos. Control tokens written in the text
//   ("<s>") are plain text, as llama.cpp with parse_special=false. After a user-defined token
//   no space is prefixed again (SentencePiece; llama.cpp prefixes one).
// decode(ids): the pieces concatenated, "▁" as ' ', byte tokens as their raw byte (a character
//   split over several byte tokens re-assembles); control and unknown tokens give nothing. With
//   add_space_prefix, one space at the start of the result is dropped: the one step 1 added
//   (Hugging Face's LlamaTokenizerFast decoder strips it so; llama.cpp keeps it after BOS). So
//   decode(encode(x)) == x for any UTF-8 x without "▁".
//
// Merging keeps the candidate pairs in a priority queue, as SentencePiece's BPE does: O(n log n)
// in the text's length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlspeed::text {

// tokenizer.ggml.token_type's values (llama.cpp's llama_token_type).
enum class LlamaTokenType : int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

// tokenizer.ggml.{bos,eos,unknown,padding}_token_id; the defaults are llama.cpp's for a "llama"
// vocabulary without the keys. -1: none (padding only).
struct LlamaSpecialIds {
  int32_t bos = 1;
  int32_t eos = 2;
  int32_t unknown = 0;
  int32_t padding = -1;
};

class LlamaTokenizer {
 public:
  using SpecialIds = LlamaSpecialIds;

  // Throws InputFileError, with a message that names the GGUF key but not the file (the caller
  // adds it), when: the vocabulary is empty; tokens, scores and types differ in length; a token
  // is not UTF-8; a type is not 1 to 6; a score is NaN; a byte token is not "<0xXX>" (two
  // upper-case hex digits) or repeats a byte; there are byte tokens but not all 256; BOS, EOS or
  // unknown is not an id of the vocabulary, or padding is neither -1 nor one. A piece listed
  // twice keeps its first id.
  LlamaTokenizer(std::vector<std::string> tokens, std::vector<float> scores, std::vector<int32_t> types,
                 SpecialIds ids, bool add_space_prefix = true);

  // Steps 1-4 above. `text` may hold any bytes (invalid UTF-8 goes through byte fallback).
  std::vector<int32_t> encode(std::string_view text, bool add_bos = true, bool add_eos = false) const;

  // The text of `ids`, as described above; bytes that are not UTF-8 (a character cut short)
  // become U+FFFD, one per maximal invalid subpart. Throws std::out_of_range for an id outside
  // the vocabulary.
  std::string decode(const std::vector<int32_t>& ids) const;
  // The same without the U+FFFD replacement: the exact bytes.
  std::string decode_bytes(const std::vector<int32_t>& ids) const;
  // One token's bytes for streaming ("▁" as ' ', a byte token's byte, "" for control and
  // unknown tokens), with no leading space dropped: the caller concatenates the pieces and
  // holds back an incomplete UTF-8 character until its last byte arrives.
  std::string decode_piece(int64_t id) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  const std::string& token(int32_t id) const { return tokens_.at(static_cast<size_t>(id)); }
  LlamaTokenType type(int32_t id) const { return types_.at(static_cast<size_t>(id)); }
  float score(int32_t id) const { return scores_.at(static_cast<size_t>(id)); }
  int32_t id(const std::string& piece) const;  // -1 when no token has this text
  const SpecialIds& special_ids() const { return ids_; }
  bool add_space_prefix() const { return add_space_prefix_; }
  bool has_byte_tokens() const { return byte_ids_[0] >= 0; }

 private:
  struct Symbol;
  void index_vocabulary();
  std::vector<Symbol> split(const std::string& normalized) const;
  int32_t merge(const std::string& normalized, std::vector<Symbol>& symbols) const;
  void emit(const std::string& normalized, const std::vector<Symbol>& symbols, size_t index,
            std::vector<int32_t>& out) const;

  std::vector<std::string> tokens_;
  std::vector<float> scores_;
  std::vector<LlamaTokenType> types_;
  SpecialIds ids_;
  bool add_space_prefix_;
  // Normal, user-defined and unused pieces (SentencePiece's `pieces_`): what merges may form
  // and what a final symbol may be; control, unknown and byte tokens never come from text.
  std::unordered_map<std::string, int32_t> piece_ids_;
  std::unordered_map<std::string, int32_t> all_ids_;  // every token, for id()
  std::unordered_map<std::string, int32_t> user_defined_;
  std::vector<size_t> user_defined_lengths_;  // their distinct byte lengths, longest first
  size_t longest_piece_ = 0;                  // bytes; no longer pair can merge
  int32_t byte_ids_[256];                     // byte -> its token, or -1 for all without them
};

// Llama-2-chat's prompt for one user turn: "[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]",
// or "[INST] {user} [/INST]" when `system` is empty. BOS is left to encode().
std::string llama2_chat_prompt(std::string_view system, std::string_view user);

}  // namespace mlspeed::text
