// A small byte-level BPE vocabulary laid out as Llama 3's GGUF vocabulary ("gpt2", pre-tokenizer
// "llama-bpe"), for tests whose expected ids are worked out by hand: GPT-2's 256 byte tokens in
// GPT-2's order (ids 0..255), then one token for each of a few merges (ids 256.., in rank order),
// then Llama 3's special tokens as control tokens and one user-defined token.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlspeed/models/llama_gguf_write.h"
#include "testing/tiny_gpt2_vocab.h"

namespace mlspeed::testing {

// The byte characters of `bytes` (OpenAI's bytes_to_unicode, written out again here: the
// printable bytes stand for themselves, the other 68, in byte order, for U+0100, U+0101, ...):
// byte_chars(" ") is "Ġ", byte_chars("\n") is "Ċ", byte_chars("é") is "Ã©".
inline std::string byte_chars(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    const auto printable = [](unsigned c) { return (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE; };
    if (printable(b)) {
      out += utf8_of(b);
      continue;
    }
    uint32_t below = 0;  // non-printable bytes before b
    for (unsigned c = 0; c < b; ++c) below += !printable(c);
    out += utf8_of(256 + below);
  }
  return out;
}

struct TinyLlama3Vocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // "first second", rank order
  std::map<std::string, int64_t> ids;

  // The id of the token for these bytes (the token byte_chars(bytes)), or of a special token's
  // text (printable ASCII, its own byte characters).
  int64_t id(const std::string& bytes) const { return ids.at(byte_chars(bytes)); }
  llama::GgufVocabulary gguf() const {
    llama::GgufVocabulary v;
    v.model = "gpt2";
    v.pre = "llama-bpe";
    v.tokens = tokens;
    v.types = types;
    v.merges = merges;
    v.bos = static_cast<int32_t>(ids.at("<|begin_of_text|>"));
    v.eos = static_cast<int32_t>(ids.at("<|end_of_text|>"));
    v.unknown = -1;
    return v;
  }
};

// The merges, by the bytes they join (rank order). Tokens made by merges are found by id("...")
// with the text they stand for: id("they"), id("'ll"), id("\n\n"), id("中").
inline TinyLlama3Vocab tiny_llama3_vocab() {
  const std::vector<std::pair<std::string, std::string>> merges = {
      {"'", "m"},        // 0  'm
      {"l", "l"},        // 1  ll
      {"'", "ll"},       // 2  'll
      {"t", "h"},        // 3  th
      {"th", "e"},       // 4  the
      {"the", "y"},      // 5  they
      {"1", "2"},        // 6  12
      {"3", "4"},        // 7  34
      {"12", "3"},       // 8  123
      {"4", "5"},        // 9  45
      {" ", " "},        // 10 two spaces
      {"\n", "\n"},      // 11 two line breaks
      {"c", "a"},        // 12 ca
      {"ca", "f"},       // 13 caf
      {"\xC3", "\xA9"},  // 14 é
      {"caf", "\xC3\xA9"},       // 15 café
      {"\xE4", "\xB8"},          // 16 the first two bytes of 中 (E4 B8 AD)
      {"\xE4\xB8", "\xAD"},      // 17 中
      {" ", "they"},             // 18 " they"
  };
  TinyLlama3Vocab v;
  for (const std::string& token : gpt2_byte_tokens()) {
    v.ids[token] = static_cast<int64_t>(v.tokens.size());
    v.tokens.push_back(token);
  }
  for (const auto& [first, second] : merges) {
    v.merges.push_back(byte_chars(first) + " " + byte_chars(second));
    v.ids[byte_chars(first + second)] = static_cast<int64_t>(v.tokens.size());
    v.tokens.push_back(byte_chars(first + second));
  }
  v.types.assign(v.tokens.size(), 1);  // normal
  for (const char* special : {"<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
                              "<|eot_id|>", "<tool>"}) {
    v.ids[special] = static_cast<int64_t>(v.tokens.size());
    v.tokens.push_back(special);
    v.types.push_back(std::string(special) == "<tool>" ? 4 : 3);  // user-defined, control
  }
  return v;
}

}  // namespace mlspeed::testing
