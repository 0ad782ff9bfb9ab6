// A small GPT-2 byte-level BPE vocabulary for tests: encoder.json with GPT-2's 256 byte tokens in
// GPT-2's order ("!" is id 0), a dozen merges that spell "The rain in Spain" in 4 tokens, and
// "<|endoftext|>"; written to a folder as the real files are laid out.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "testing/test_support.h"

namespace mlspeed::testing {

inline std::string utf8_of(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += char(cp);
  } else if (cp < 0x800) {
    s += char(0xC0 | (cp >> 6));
    s += char(0x80 | (cp & 0x3F));
  } else {
    s += char(0xE0 | (cp >> 12));
    s += char(0x80 | ((cp >> 6) & 0x3F));
    s += char(0x80 | (cp & 0x3F));
  }
  return s;
}

// GPT-2's byte tokens in the order of its encoder.json (ids 0..255): the printable bytes first,
// then the other 68 bytes as U+0100, U+0101, ... (OpenAI's bytes_to_unicode, written out again
// here so that the tokenizer is checked against an independent copy).
inline std::vector<std::string> gpt2_byte_tokens() {
  std::vector<int> order;
  std::vector<bool> printable(256, false);
  for (int b = '!'; b <= '~'; ++b) order.push_back(b), printable[b] = true;
  for (int b = 0xA1; b <= 0xAC; ++b) order.push_back(b), printable[b] = true;
  for (int b = 0xAE; b <= 0xFF; ++b) order.push_back(b), printable[b] = true;
  std::vector<std::string> tokens;
  for (int b : order) tokens.push_back(utf8_of(uint32_t(b)));
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b)
    if (!printable[b]) tokens.push_back(utf8_of(next++));
  return tokens;
}

inline const std::string& gpt2_space() {  // "Ġ", the byte character of a space
  static const std::string g = utf8_of(0x120);
  return g;
}

struct TinyGpt2Vocab {
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  std::map<std::string, int64_t> ids;                       // token -> id
  std::string encoder_json, vocab_bpe;                      // the files' contents

  int64_t id(const std::string& token) const { return ids.at(token); }
  void write_to(const std::string& dir) const {
    write_file(dir + "/encoder.json", encoder_json);
    write_file(dir + "/vocab.bpe", vocab_bpe);
  }
};

inline TinyGpt2Vocab tiny_gpt2_vocab() {
  const std::string& G = gpt2_space();
  TinyGpt2Vocab v;
  v.merges = {{G, "t"},    {"h", "e"}, {"i", "n"}, {G + "t", "he"}, {"a", "in"},       {"r", "ain"},
              {G, "rain"}, {G, "in"},  {"S", "p"}, {G, "Sp"},       {G + "Sp", "ain"}, {"T", "he"}};
  int64_t id = 0;
  for (const auto& t : gpt2_byte_tokens()) v.ids[t] = id++;
  v.vocab_bpe = "#version: 0.2\n";
  for (const auto& [a, b] : v.merges) {
    v.ids[a + b] = id++;
    v.vocab_bpe += a + " " + b + "\n";
  }
  v.ids["<|endoftext|>"] = id++;
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [token, i] : v.ids) json[token] = i;
  v.encoder_json = json.dump();
  return v;
}

}  // namespace mlspeed::testing
