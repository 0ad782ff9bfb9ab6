// The byte-level BPE tokenizer of a GGUF file whose `tokenizer.ggml.model` is "gpt2" (Llama 3, and
// the other models llama.cpp converts with a GPT-2-style vocabulary), run as llama.cpp runs it:
//
//   tokens   tokenizer.ggml.tokens: byte characters (GPT-2's bytes_to_unicode, "Ġ" for a space),
//            except the special tokens, which are their own text ("<|eot_id|>")
//   types    tokenizer.ggml.token_type (LlamaTokenType): control, user-defined and unknown tokens
//            are special; normal, unused and byte tokens are byte-level pieces
//   merges   tokenizer.ggml.merges: "first second", rank = index (text/gpt2_bpe.h)
//   pre      tokenizer.ggml.pre: the pattern that splits text before merging, and whether a
//            pre-token that is a token as a whole skips the merges (Llama 3's does)
//
// encode(text, add_bos, parse_special): first the special tokens written in the text are found,
//   as llama.cpp's tokenizer_st_partition finds them: the longest first (ties: the lower id),
//   every occurrence in the text not yet claimed, each one token. Control and unknown tokens are
//   looked for only when parse_special (a prompt typed by a person is text: "<|eot_id|>" in it is
//   12 bytes); user-defined tokens always. The text between them is pre-tokenised and merged by
//   Gpt2Bpe, each stretch on its own. BOS first when add_bos, EOS last when add_eos.
// decode(ids): byte-level tokens as their bytes, special tokens as their text (BOS shows as
//   "<|begin_of_text|>"), so decode(encode(x, false)) == x for any UTF-8 text x, its special
//   tokens parsed or not.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mlspeed/text/gpt2_bpe.h"
#include "mlspeed/text/llama_tokenizer.h"

namespace mlspeed::text {

class ByteBpeTokenizer {
 public:
  struct Options {
    BpePreTokenizer pre = BpePreTokenizer::gpt2;
    bool ignore_merges = false;  // true for Llama 3 (see Gpt2BpeVocabulary)
    int32_t bos = 11, eos = 11;  // llama.cpp's defaults for a "gpt2" vocabulary without the keys
  };

  // Throws InputFileError with a message that names the GGUF key, not the file (the caller adds
  // it), when: the vocabulary is empty; tokens and types differ in length; a type is not 1 to 6;
  // a byte-level token has a character that stands for no byte, or a byte has no token; a merge
  // is not two symbols and one space, names a symbol that is no byte-level token, makes one that
  // is none, or repeats an earlier merge; BOS or EOS is not an id of the vocabulary.
  ByteBpeTokenizer(std::vector<std::string> tokens, std::vector<int32_t> types, std::vector<std::string> merges,
                   Options options);

  std::vector<int64_t> encode(std::string_view text, bool add_bos = true, bool add_eos = false,
                              bool parse_special = false) const;
  // The text of `ids` as described above; bytes that are not UTF-8 (a character cut short)
  // become U+FFFD. Throws std::out_of_range for an id outside the vocabulary.
  std::string decode(const std::vector<int64_t>& ids) const;
  std::string decode_bytes(const std::vector<int64_t>& ids) const;  // the same without U+FFFD

  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::string& token(int64_t id) const { return tokens_.at(static_cast<size_t>(id)); }
  LlamaTokenType type(int64_t id) const { return types_.at(static_cast<size_t>(id)); }
  int64_t id(const std::string& token) const;  // the first id with this text; -1 when none
  int64_t bos() const { return bos_; }
  int64_t eos() const { return eos_; }
  BpePreTokenizer pre_tokenizer() const { return bpe_.pre_tokenizer(); }

 private:
  struct Special {
    std::string text;
    int64_t id;
    bool always;  // user-defined: found in the text even without parse_special
  };

  std::vector<std::string> tokens_;
  std::vector<LlamaTokenType> types_;
  Gpt2Bpe bpe_;
  std::unordered_map<std::string, int64_t> ids_;  // text -> first id
  std::vector<Special> specials_;                 // longest first
  int64_t bos_, eos_;
};

// Whether `t` has the tokens of Llama 3's chat template (<|begin_of_text|>, <|start_header_id|>,
// <|end_header_id|>, <|eot_id|>).
bool has_llama3_chat_tokens(const ByteBpeTokenizer& t);

// The ids of Llama 3's (Instruct) prompt for one user turn, the system turn left out when `system`
// is empty:
//   <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>
//   <|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
// (one line), the special tokens as tokens and the text between them encoded as text: the ids
// encode(that text, no BOS, parse_special) gives, except that "<|eot_id|>" written in `system` or
// `user` stays text. Precondition: has_llama3_chat_tokens(t).
std::vector<int64_t> llama3_chat_prompt(const ByteBpeTokenizer& t, std::string_view system, std::string_view user);

}  // namespace mlspeed::text
