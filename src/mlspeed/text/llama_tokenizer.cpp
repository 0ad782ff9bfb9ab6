#include "mlspeed/text/llama_tokenizer.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <queue>
#include <stdexcept>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/text/gpt2_bpe.h"
#include "mlspeed/text/utf8.h"

namespace mlspeed::text {
namespace {

const std::string kSpmSpace = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// The length of the valid UTF-8 character at s[i] (Unicode's table 3-7: no overlong forms, no
// surrogates, nothing past U+10FFFF), or 1 when none starts there: each byte of an invalid
// sequence is then a symbol of its own and goes through byte fallback unchanged.
size_t spm_char_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t lead = byte(i);
  size_t need;
  uint8_t low = 0x80, high = 0xBF;  // the valid range of the second byte
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 1;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return 1;
    const uint8_t b = byte(i + k);
    if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF)) return 1;
  }
  return need + 1;
}

// The byte a byte token "<0xXX>" stands for, or -1 when `token` is not one. Upper-case hex only:
// llama.cpp finds a byte's token by formatting "<0x%02X>", so "<0x0a>" would never be found.
int spm_byte_of_token(const std::string& token) {
  const auto hex = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  const int high = hex(token[3]), low = hex(token[4]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

std::string spm_byte_name(int byte) {
  const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[(byte >> 4) & 15] + hex[byte & 15] + ">";
}

std::string spm_quoted(const std::string& token) { return "\"" + token + "\""; }

void spm_check_lengths(const std::vector<std::string>& tokens, size_t scores, size_t types) {
  if (tokens.empty()) throw InputFileError("tokenizer.ggml.tokens is empty; a Llama vocabulary has tokens");
  for (const auto& [key, size] : {std::pair<const char*, size_t>{"tokenizer.ggml.scores", scores},
                                  std::pair<const char*, size_t>{"tokenizer.ggml.token_type", types}})
    if (size != tokens.size())
      throw InputFileError(std::string(key) + " has " + std::to_string(size) + " entries but tokenizer.ggml.tokens has " +
                           std::to_string(tokens.size()) + "; expected one per token");
}

// Every token UTF-8 with a known type and a score that orders (NaN would break the merge
// queue's ordering); byte tokens well formed, each byte once, all 256 or none.
void spm_check_tokens(const std::vector<std::string>& tokens, const std::vector<float>& scores,
                      const std::vector<int32_t>& types) {
  std::vector<int64_t> byte_token(256, -1);
  size_t byte_tokens = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string at = "token " + std::to_string(i);
    if (const auto bad = utf8::invalid_offset(tokens[i]))
      throw InputFileError("tokenizer.ggml.tokens: " + at + " is not valid UTF-8 (byte offset " +
                           std::to_string(*bad) + " of the token)");
    if (types[i] < 1 || types[i] > 6)
      throw InputFileError("tokenizer.ggml.token_type: " + at + " (" + spm_quoted(tokens[i]) + ") has the type " +
                           std::to_string(types[i]) + "; expected 1 (normal) to 6 (byte)");
    if (std::isnan(scores[i]))
      throw InputFileError("tokenizer.ggml.scores: " + at + " (" + spm_quoted(tokens[i]) + ") has the score NaN");
    if (types[i] != static_cast<int32_t>(LlamaTokenType::byte)) continue;
    const int byte = spm_byte_of_token(tokens[i]);
    if (byte < 0)
      throw InputFileError("tokenizer.ggml.tokens: " + at + " is a byte token (type 6) but reads " +
                           spm_quoted(tokens[i]) + "; expected <0xXX> with two upper-case hex digits");
    if (byte_token[byte] >= 0)
      throw InputFileError("tokenizer.ggml.tokens: tokens " + std::to_string(byte_token[byte]) + " and " +
                           std::to_string(i) + " are both the byte token " + spm_byte_name(byte));
    byte_token[byte] = static_cast<int64_t>(i);
    ++byte_tokens;
  }
  if (byte_tokens > 0 && byte_tokens < 256) {
    const int missing = static_cast<int>(std::find(byte_token.begin(), byte_token.end(), -1) - byte_token.begin());
    throw InputFileError("tokenizer.ggml.tokens has " + std::to_string(byte_tokens) + " byte tokens but none for " +
                         spm_byte_name(missing) + "; byte fallback needs all 256 (<0x00> to <0xFF>)");
  }
}

void spm_check_ids(const LlamaSpecialIds& ids, size_t size) {
  const struct {
    const char* key;
    int32_t id;
    bool optional;
  } checks[] = {{"tokenizer.ggml.bos_token_id", ids.bos, false},
                {"tokenizer.ggml.eos_token_id", ids.eos, false},
                {"tokenizer.ggml.unknown_token_id", ids.unknown, false},
                {"tokenizer.ggml.padding_token_id", ids.padding, true}};
  for (const auto& check : checks) {
    if (check.optional && check.id == -1) continue;
    if (check.id < 0 || static_cast<size_t>(check.id) >= size)
      throw InputFileError(std::string(check.key) + " is " + std::to_string(check.id) + "; expected an id from 0 to " +
                           std::to_string(size - 1) + (check.optional ? " (or none)" : ""));
  }
}

// Step 1: the optional space prefix, then ' ' -> "▁".
std::string spm_normalize(std::string_view text, bool add_space_prefix) {
  std::string out;
  out.reserve(text.size() + text.size() / 4 + 4);
  if (add_space_prefix) out += kSpmSpace;
  for (char c : text) {
    if (c == ' ')
      out += kSpmSpace;
    else
      out += c;
  }
  return out;
}

bool spm_is_text_piece(LlamaTokenType type) {
  return type == LlamaTokenType::normal || type == LlamaTokenType::user_defined || type == LlamaTokenType::unused;
}

}  // namespace

// A symbol of the text being merged: a span of the normalised text, linked to its neighbours.
// Merging two symbols appends a new one (made of `left` and `right`) and kills both, so a queued
// pair is still valid exactly when both its symbols are alive and adjacent, and a merged unused
// token can be split back into the two symbols that made it.
struct LlamaTokenizer::Symbol {
  size_t begin, size;   // bytes of the normalised text
  int32_t prev, next;   // alive neighbours, -1 for none
  int32_t left, right;  // the symbols merged into this one, -1 for an initial symbol
  bool alive, frozen;   // frozen: a user-defined token, which never merges
};

LlamaTokenizer::LlamaTokenizer(std::vector<std::string> tokens, std::vector<float> scores, std::vector<int32_t> types,
                               SpecialIds ids, bool add_space_prefix)
    : tokens_(std::move(tokens)), scores_(std::move(scores)), ids_(ids), add_space_prefix_(add_space_prefix) {
  spm_check_lengths(tokens_, scores_.size(), types.size());
  spm_check_tokens(tokens_, scores_, types);
  spm_check_ids(ids_, tokens_.size());
  if (tokens_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InputFileError("tokenizer.ggml.tokens has " + std::to_string(tokens_.size()) + " tokens; ids are int32");
  types_.reserve(types.size());
  for (int32_t t : types) types_.push_back(static_cast<LlamaTokenType>(t));
  index_vocabulary();
}

void LlamaTokenizer::index_vocabulary() {
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const auto id = static_cast<int32_t>(i);
    const std::string& token = tokens_[i];
    all_ids_.emplace(token, id);  // emplace keeps the first id of a repeated piece
    if (types_[i] == LlamaTokenType::byte) byte_ids_[spm_byte_of_token(token)] = id;
    if (!spm_is_text_piece(types_[i]) || token.empty()) continue;
    piece_ids_.emplace(token, id);
    longest_piece_ = std::max(longest_piece_, token.size());
    if (types_[i] == LlamaTokenType::user_defined) user_defined_.emplace(token, id);
  }
  for (const auto& entry : user_defined_) user_defined_lengths_.push_back(entry.first.size());
  std::sort(user_defined_lengths_.begin(), user_defined_lengths_.end(), std::greater<size_t>());
  user_defined_lengths_.erase(std::unique(user_defined_lengths_.begin(), user_defined_lengths_.end()),
                              user_defined_lengths_.end());
}

int32_t LlamaTokenizer::id(const std::string& piece) const {
  const auto it = all_ids_.find(piece);
  return it == all_ids_.end() ? -1 : it->second;
}

// Step 2: the longest user-defined token where one starts, else a character (or a bad byte).
std::vector<LlamaTokenizer::Symbol> LlamaTokenizer::split(const std::string& normalized) const {
  std::vector<Symbol> symbols;
  symbols.reserve(2 * normalized.size());  // merges append up to one symbol per initial one
  std::string candidate;
  for (size_t i = 0; i < normalized.size();) {
    size_t length = 0;
    for (size_t user_length : user_defined_lengths_) {
      if (i + user_length > normalized.size()) continue;
      candidate.assign(normalized, i, user_length);
      if (user_defined_.count(candidate)) {
        length = user_length;
        break;
      }
    }
    const bool frozen = length > 0;
    if (!frozen) length = spm_char_length(normalized, i);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({i, length, index - 1, -1, -1, -1, true, frozen});
    if (index > 0) symbols[index - 1].next = index;
    i += length;
  }
  return symbols;
}

// Step 3, as SentencePiece's BPE: every adjacent pair that makes a piece waits in a max-queue by
// the piece's score (ties: the leftmost, by byte offset); the best still-valid pair merges and
// its new neighbours are queued. Each merge queues at most two pairs: O(n log n) overall.
// Returns the first symbol of the merged list.
int32_t LlamaTokenizer::merge(const std::string& normalized, std::vector<Symbol>& symbols) const {
  struct Pair {
    float score;
    size_t begin;
    int32_t left, right;
  };
  const auto lower = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.begin > b.begin);
  };
  std::priority_queue<Pair, std::vector<Pair>, decltype(lower)> queue(lower);
  std::string candidate;
  const auto try_pair = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol &a = symbols[left], &b = symbols[right];
    if (a.frozen || b.frozen || a.size + b.size > longest_piece_) return;
    candidate.assign(normalized, a.begin, a.size + b.size);
    const auto it = piece_ids_.find(candidate);
    if (it != piece_ids_.end()) queue.push({scores_[static_cast<size_t>(it->second)], a.begin, left, right});
  };
  for (size_t i = 1; i < symbols.size(); ++i) try_pair(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));
  int32_t head = symbols.empty() ? -1 : 0;
  while (!queue.empty()) {
    const Pair pair = queue.top();
    queue.pop();
    if (!symbols[pair.left].alive || !symbols[pair.right].alive || symbols[pair.left].next != pair.right) continue;
    Symbol& a = symbols[pair.left];
    Symbol& b = symbols[pair.right];
    a.alive = b.alive = false;
    const auto merged = static_cast<int32_t>(symbols.size());
    const Symbol joined{a.begin, a.size + b.size, a.prev, b.next, pair.left, pair.right, true, false};
    symbols.push_back(joined);  // a and b are not used past here: push_back may move them
    if (joined.prev >= 0)
      symbols[joined.prev].next = merged;
    else
      head = merged;
    if (joined.next >= 0) symbols[joined.next].prev = merged;
    try_pair(joined.prev, merged);
    try_pair(merged, joined.next);
  }
  return head;
}

// Step 4 for one final symbol.
void LlamaTokenizer::emit(const std::string& normalized, const std::vector<Symbol>& symbols, size_t index,
                          std::vector<int32_t>& out) const {
  const Symbol& symbol = symbols[index];
  const auto it = piece_ids_.find(normalized.substr(symbol.begin, symbol.size));
  if (it != piece_ids_.end()) {
    // SentencePiece merges through unused pieces but never outputs a merged one: it splits it
    // back into the two symbols it was made of.
    if (types_[static_cast<size_t>(it->second)] == LlamaTokenType::unused && symbol.left >= 0) {
      emit(normalized, symbols, static_cast<size_t>(symbol.left), out);
      emit(normalized, symbols, static_cast<size_t>(symbol.right), out);
      return;
    }
    out.push_back(it->second);
    return;
  }
  if (!has_byte_tokens()) {  // one unknown per symbol (a character, as only pieces merge)
    out.push_back(ids_.unknown);
    return;
  }
  for (size_t k = 0; k < symbol.size; ++k) out.push_back(byte_ids_[static_cast<uint8_t>(normalized[symbol.begin + k])]);
}

std::vector<int32_t> LlamaTokenizer::encode(std::string_view text, bool add_bos, bool add_eos) const {
  std::vector<int32_t> out;
  if (add_bos) out.push_back(ids_.bos);
  // Empty text gets no space prefix: SentencePiece and llama.cpp give [BOS] alone.
  if (!text.empty()) {
    const std::string normalized = spm_normalize(text, add_space_prefix_);
    // Symbols are int32-linked and may double in number while merging.
    if (normalized.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
      throw std::length_error("LlamaTokenizer::encode: text of " + std::to_string(text.size()) + " bytes is too long");
    std::vector<Symbol> symbols = split(normalized);
    out.reserve(out.size() + symbols.size() / 2 + 2);
    for (int32_t i = merge(normalized, symbols); i >= 0; i = symbols[static_cast<size_t>(i)].next)
      emit(normalized, symbols, static_cast<size_t>(i), out);
  }
  if (add_eos) out.push_back(ids_.eos);
  return out;
}

std::string LlamaTokenizer::decode_piece(int64_t id) const {
  if (id < 0 || id >= vocab_size())
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the Llama vocabulary [0, " +
                            std::to_string(vocab_size()) + ")");
  const auto index = static_cast<size_t>(id);
  const LlamaTokenType type = types_[index];
  if (type == LlamaTokenType::control || type == LlamaTokenType::unknown) return "";
  if (type == LlamaTokenType::byte) return std::string(1, static_cast<char>(spm_byte_of_token(tokens_[index])));
  std::string piece;
  const std::string& token = tokens_[index];
  for (size_t i = 0; i < token.size();) {
    if (token.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      piece += ' ';
      i += kSpmSpace.size();
    } else {
      piece += token[i++];
    }
  }
  return piece;
}

std::string LlamaTokenizer::decode_bytes(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) out += decode_piece(id);
  if (add_space_prefix_ && !out.empty() && out[0] == ' ') out.erase(0, 1);  // the prefix encode added
  return out;
}

std::string LlamaTokenizer::decode(const std::vector<int32_t>& ids) const {
  return utf8_replace_invalid(decode_bytes(ids));
}

std::string llama2_chat_prompt(std::string_view system, std::string_view user) {
  std::string prompt = "[INST] ";
  if (!system.empty()) {
    prompt += "<<SYS>>\n";
    prompt += system;
    prompt += "\n<</SYS>>\n\n";
  }
  prompt += user;
  prompt += " [/INST]";
  return prompt;
}

}  // namespace mlspeed::text
