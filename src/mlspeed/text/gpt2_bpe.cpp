#include "mlspeed/text/gpt2_bpe.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/text/unicode_classes.h"
#include "mlspeed/text/utf8.h"

namespace mlspeed::text {
namespace {

constexpr int64_t kMaxId = 10'000'000;  // far above any BPE vocabulary; bounds the id table

std::string file_text(const std::string& path) {
  if (is_directory(path)) throw InputFileError(path + ": is a folder, expected a file");
  auto content = mlspeed::read_whole_file(path);
  if (!content) throw InputFileError(path + ": cannot open it (" + std::strerror(errno) + ")");
  return std::move(*content);
}

std::string code_point_name(uint32_t cp) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "U+%04X", static_cast<unsigned>(cp));
  return buffer;
}

// One UTF-8 character at bytes[i]: its code point and length when valid (Unicode's table 3-7:
// no overlong forms, no surrogates, nothing past U+10FFFF); else ok is false and length is the
// maximal invalid subpart (at least one byte).
struct Utf8Char {
  uint32_t cp = 0;
  size_t length = 1;
  bool ok = false;
};

Utf8Char next_char(std::string_view bytes, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(bytes[k]); };
  const uint8_t lead = byte(i);
  if (lead < 0x80) return {lead, 1, true};
  size_t need;
  uint8_t low = 0x80, high = 0xBF;  // the valid range of the second byte
  uint32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1, cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2, cp = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3, cp = lead & 0x07;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {0, 1, false};
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= bytes.size()) return {0, k, false};
    const uint8_t b = byte(i + k);
    const uint8_t lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
    if (b < lo || b > hi) return {0, k, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, need + 1, true};
}

// OpenAI's bytes_to_unicode(): the printable bytes stand for themselves, the other 68 bytes for
// the code points 256, 257, ... in byte order (so a space, 0x20, is U+0120 "Ġ").
std::array<uint32_t, 256> byte_to_code_point() {
  std::array<uint32_t, 256> map{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    map[b] = printable ? b : next++;
  }
  return map;
}

const std::array<std::string, 256>& byte_encoder() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    const auto map = byte_to_code_point();
    for (size_t b = 0; b < 256; ++b) t[b] = utf8::encode(std::u32string(1, static_cast<char32_t>(map[b])));
    return t;
  }();
  return table;
}

// The byte a "byte character" stands for, or -1.
int byte_of(uint32_t cp) {
  static const std::unordered_map<uint32_t, int> table = [] {
    std::unordered_map<uint32_t, int> t;
    const auto map = byte_to_code_point();
    for (int b = 0; b < 256; ++b) t[map[b]] = b;
    return t;
  }();
  auto it = table.find(cp);
  return it == table.end() ? -1 : it->second;
}

// The bytes a token of encoder.json stands for; false, with the offending code point in `bad`,
// when it has a character that stands for no byte.
bool token_bytes(const std::string& token, std::string& bytes, uint32_t& bad) {
  bytes.clear();
  for (size_t i = 0; i < token.size();) {
    const Utf8Char c = next_char(token, i);
    const int b = c.ok ? byte_of(c.cp) : -1;
    if (b < 0) {
      bad = c.ok ? c.cp : 0xFFFD;
      return false;
    }
    bytes += static_cast<char>(b);
    i += c.length;
  }
  return true;
}

int line_of(const std::string& text, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// Invalid UTF-8 (a malformed line of vocab.bpe may hold any bytes) is shown as U+FFFD: dump()'s
// default is to throw a json::type_error for it.
std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Pre-tokenisation works on code points with their class and place in the text.
enum class Kind { letter, number, space, other };
struct Char {
  uint32_t cp;
  size_t begin, length;
  Kind kind;
};

std::vector<Char> classify(std::string_view text) {
  std::vector<Char> chars;
  for (size_t i = 0; i < text.size();) {
    const Utf8Char c = next_char(text, i);
    Kind kind = Kind::other;  // invalid UTF-8 is neither letter, number nor space
    if (c.ok)
      kind = is_letter(c.cp)   ? Kind::letter
             : is_number(c.cp) ? Kind::number
             : is_space(c.cp)  ? Kind::space
                               : Kind::other;
    chars.push_back({c.ok ? c.cp : 0xFFFFFFFFu, i, c.length, kind});
    i += c.length;
  }
  return chars;
}

// The end (exclusive, in chars) of GPT-2's pattern's match at chars[i]; the alternatives are
// tried in the pattern's order, each as the regex engine would (greedy, backtracking within itself).
size_t gpt2_match_end(const std::vector<Char>& chars, size_t i) {
  const size_t n = chars.size();
  const auto cp = [&](size_t j) { return j < n ? chars[j].cp : 0xFFFFFFFFu; };
  const auto is = [&](size_t j, Kind k) { return j < n && chars[j].kind == k; };
  const auto run_end = [&](size_t j, Kind k) {
    while (is(j, k)) ++j;
    return j;
  };
  // 's|'t|'re|'ve|'m|'ll|'d  (lower case only, as GPT-2's pattern)
  if (cp(i) == '\'') {
    for (const char* suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
      size_t k = 0;
      while (suffix[k] && cp(i + 1 + k) == static_cast<uint32_t>(suffix[k])) ++k;
      if (!suffix[k]) return i + 1 + k;
    }
  }
  //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
  for (Kind k : {Kind::letter, Kind::number, Kind::other}) {
    if (cp(i) == ' ' && is(i + 1, k)) return run_end(i + 1, k);
    if (is(i, k)) return run_end(i, k);
  }
  // \s+(?!\S): the whitespace run, less its last character when a non-space follows it.
  // \s+: a single whitespace character before a non-space.
  const size_t end = run_end(i, Kind::space);
  if (end == n || end - i == 1) return end;
  return end - 1;
}

// The same for Llama 3's pattern.
size_t llama3_match_end(const std::vector<Char>& chars, size_t i) {
  const size_t n = chars.size();
  const auto cp = [&](size_t j) { return j < n ? chars[j].cp : 0xFFFFFFFFu; };
  const auto is = [&](size_t j, Kind k) { return j < n && chars[j].kind == k; };
  const auto is_line_break = [&](size_t j) { return cp(j) == '\r' || cp(j) == '\n'; };
  const auto run_end = [&](size_t j, Kind k) {
    while (is(j, k)) ++j;
    return j;
  };
  // (?i:'s|'t|'re|'ve|'m|'ll|'d): either case of the ASCII letters
  if (cp(i) == '\'') {
    const auto lower = [&](size_t j) { return cp(j) >= 'A' && cp(j) <= 'Z' ? cp(j) + ('a' - 'A') : cp(j); };
    for (const char* suffix : {"s", "t", "re", "ve", "m", "ll", "d"}) {
      size_t k = 0;
      while (suffix[k] && lower(i + 1 + k) == static_cast<uint32_t>(suffix[k])) ++k;
      if (!suffix[k]) return i + 1 + k;
    }
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+: one character that is no line break, letter or number may lead
  if (i < n && !is_line_break(i) && !is(i, Kind::letter) && !is(i, Kind::number) && is(i + 1, Kind::letter))
    return run_end(i + 1, Kind::letter);
  if (is(i, Kind::letter)) return run_end(i, Kind::letter);
  // \p{N}{1,3}
  if (is(i, Kind::number)) {
    size_t j = i;
    while (j < i + 3 && is(j, Kind::number)) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  const size_t symbols = cp(i) == ' ' && is(i + 1, Kind::other) ? i + 1 : i;
  if (is(symbols, Kind::other)) {
    size_t j = run_end(symbols, Kind::other);
    while (j < n && is_line_break(j)) ++j;
    return j;
  }
  // \s*[\r\n]+: the whitespace run up to its last line break
  const size_t end = run_end(i, Kind::space);
  for (size_t j = end; j > i; --j)
    if (is_line_break(j - 1)) return j;
  // \s+(?!\S) | \s+, as in GPT-2's pattern
  if (end == n || end - i == 1) return end;
  return end - 1;
}

}  // namespace

std::string utf8_replace_invalid(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const Utf8Char c = next_char(bytes, i);
    if (c.ok)
      out.append(bytes.substr(i, c.length));
    else
      out += "\xEF\xBF\xBD";  // U+FFFD
    i += c.length;
  }
  return out;
}

std::vector<std::string> Gpt2Bpe::pre_tokenize(std::string_view text) {
  return pre_tokenize(text, BpePreTokenizer::gpt2);
}

std::vector<std::string> Gpt2Bpe::pre_tokenize(std::string_view text, BpePreTokenizer pre) {
  const std::vector<Char> chars = classify(text);
  const auto match_end = pre == BpePreTokenizer::llama3 ? llama3_match_end : gpt2_match_end;
  std::vector<std::string> pieces;
  for (size_t i = 0; i < chars.size();) {
    const size_t end = match_end(chars, i);
    const size_t begin_byte = chars[i].begin, end_byte = chars[end - 1].begin + chars[end - 1].length;
    pieces.emplace_back(text.substr(begin_byte, end_byte - begin_byte));
    i = end;
  }
  return pieces;
}

Gpt2Bpe Gpt2Bpe::from_directory(const std::string& dir) {
  if (!is_directory(dir)) throw InputFileError(dir + ": not a folder; expected one with encoder.json and vocab.bpe");
  return Gpt2Bpe(dir + "/encoder.json", dir + "/vocab.bpe");
}

Gpt2Bpe::Gpt2Bpe(std::string source, BpePreTokenizer pre, bool ignore_merges)
    : source_(std::move(source)), pre_(pre), ignore_merges_(ignore_merges) {}

Gpt2Bpe::Gpt2Bpe(const std::string& encoder_json_path, const std::string& vocab_bpe_path)
    : Gpt2Bpe(encoder_json_path, BpePreTokenizer::gpt2, false) {
  // encoder.json: {"token": id, ...}
  const std::string json_text = file_text(encoder_json_path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputFileError(encoder_json_path + ": not valid JSON at byte offset " + std::to_string(e.byte) + " (line " +
                         std::to_string(line_of(json_text, e.byte)) + "): " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // Well-formed JSON the parser still refuses: a number too large for a double (1e400) is an
    // out_of_range error, which carries no byte offset.
    throw InputFileError(encoder_json_path + ": cannot be read as JSON: " + e.what());
  }
  if (!json.is_object())
    throw InputFileError(encoder_json_path + ": expected a JSON object of tokens and their ids, found a " +
                         json.type_name());
  std::unordered_map<int64_t, std::string> by_id;
  int64_t largest = -1;
  for (const auto& [token, value] : json.items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() >= kMaxId)
      // An array or object is named, not dumped: dump() recurses once per level of nesting, and
      // a file of a million '[' would overflow the stack.
      throw InputFileError(encoder_json_path + ": token " + json_quoted(token) + " has the id " +
                           (value.is_primitive() ? value.dump() : std::string("an ") + value.type_name()) +
                           "; expected a whole number from 0 to " + std::to_string(kMaxId - 1));
    const int64_t id = value.get<int64_t>();
    auto [it, fresh] = by_id.emplace(id, token);
    if (!fresh)
      throw InputFileError(encoder_json_path + ": tokens " + json_quoted(it->second) + " and " + json_quoted(token) +
                           " both have the id " + std::to_string(id));
    encoder_.emplace(token, id);
    largest = std::max(largest, id);
  }
  decoder_.assign(static_cast<size_t>(largest + 1), std::string());
  known_.assign(static_cast<size_t>(largest + 1), false);
  for (const auto& [id, token] : by_id) {
    uint32_t bad = 0;
    if (!token_bytes(token, decoder_[id], bad))
      throw InputFileError(encoder_json_path + ": token " + json_quoted(token) + " (id " + std::to_string(id) +
                           ") has the character " + code_point_name(bad) +
                           ", which stands for no byte in GPT-2's byte-to-unicode mapping");
    known_[id] = true;
  }
  check_byte_tokens(encoder_json_path + ": ");

  // vocab.bpe: "#version: ..." then "first second" a line.
  const std::string bpe_text = file_text(vocab_bpe_path);
  std::vector<int> line_of_rank;
  std::istringstream lines(bpe_text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line[0] == '#')) continue;
    const std::string where = vocab_bpe_path + " line " + std::to_string(number) + ": ";
    const int before = add_merge(line, where, encoder_json_path);
    if (before >= 0)
      throw InputFileError(where + "repeats the merge of line " + std::to_string(line_of_rank[before]) + " (" +
                           json_quoted(line) + ")");
    line_of_rank.push_back(number);
  }
}

Gpt2Bpe::Gpt2Bpe(const Gpt2BpeVocabulary& v) : Gpt2Bpe(v.tokens_name, v.pre, v.ignore_merges) {
  if (!v.literal.empty() && v.literal.size() != v.tokens.size())
    throw std::invalid_argument("Gpt2BpeVocabulary: " + std::to_string(v.literal.size()) + " literal flags for " +
                                std::to_string(v.tokens.size()) + " tokens");
  if (v.tokens.size() >= size_t(kMaxId))
    throw InputFileError(v.tokens_name + " has " + std::to_string(v.tokens.size()) + " tokens; at most " +
                         std::to_string(kMaxId - 1) + " are read");
  decoder_.assign(v.tokens.size(), std::string());
  known_.assign(v.tokens.size(), true);
  encoder_.reserve(v.tokens.size());
  for (size_t id = 0; id < v.tokens.size(); ++id) {
    const std::string& token = v.tokens[id];
    if (!v.literal.empty() && v.literal[id]) {
      decoder_[id] = token;
      continue;
    }
    uint32_t bad = 0;
    if (!token_bytes(token, decoder_[id], bad))
      throw InputFileError(v.tokens_name + ": token " + json_quoted(token) + " (id " + std::to_string(id) +
                           ") has the character " + code_point_name(bad) +
                           ", which stands for no byte in GPT-2's byte-to-unicode mapping");
    encoder_.emplace(token, static_cast<int64_t>(id));  // a repeated token keeps its first id
  }
  check_byte_tokens(v.tokens_name + ": ");
  ranks_.reserve(v.merges.size());
  for (size_t entry = 0; entry < v.merges.size(); ++entry) {
    const std::string where = v.merges_name + " entry " + std::to_string(entry) + ": ";
    const int before = add_merge(v.merges[entry], where, v.tokens_name);
    if (before >= 0)  // ranks are entries until the first repeat
      throw InputFileError(where + "repeats the merge of entry " + std::to_string(before) + " (" +
                           json_quoted(v.merges[entry]) + ")");
  }
}

void Gpt2Bpe::check_byte_tokens(const std::string& where) const {
  for (int b = 0; b < 256; ++b)
    if (!encoder_.count(byte_encoder()[b]))
      throw InputFileError(where + "no token for the byte " + printf_string("0x%02X", b) + " (" +
                           json_quoted(byte_encoder()[b]) +
                           "); a byte-level BPE vocabulary has one for each of the 256 bytes");
}

int Gpt2Bpe::add_merge(const std::string& merge, const std::string& where, const std::string& tokens) {
  const size_t space = merge.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == merge.size() ||
      merge.find(' ', space + 1) != std::string::npos)
    throw InputFileError(where + "expected a merge, two symbols separated by one space, found " + json_quoted(merge));
  const std::string first = merge.substr(0, space), second = merge.substr(space + 1);
  for (const std::string* symbol : {&first, &second})
    if (!encoder_.count(*symbol))
      throw InputFileError(where + "the symbol " + json_quoted(*symbol) + " is no token of " + tokens);
  if (!encoder_.count(first + second))
    throw InputFileError(where + "the merge of " + json_quoted(first) + " and " + json_quoted(second) + ", " +
                         json_quoted(first + second) + ", is no token of " + tokens);
  auto [it, fresh] = ranks_.emplace(merge, static_cast<int>(ranks_.size()));
  return fresh ? -1 : it->second;
}

bool Gpt2Bpe::has_id(int64_t id) const { return id >= 0 && id < vocab_size() && known_[static_cast<size_t>(id)]; }

// encoder.py's bpe(): the piece as byte characters, then repeatedly the lowest-ranked adjacent
// pair merged, every occurrence left to right, until no adjacent pair has a rank.
std::vector<int64_t> Gpt2Bpe::bpe(const std::string& piece) const {
  {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    auto it = cache_->ids.find(piece);
    if (it != cache_->ids.end()) return it->second;
  }
  std::vector<std::string> word;
  for (unsigned char b : piece) word.push_back(byte_encoder()[b]);
  if (ignore_merges_ && word.size() > 1) {
    std::string whole;
    for (const std::string& symbol : word) whole += symbol;
    if (encoder_.count(whole)) word = {whole};
  }
  while (word.size() > 1) {
    int best = std::numeric_limits<int>::max();
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = ranks_.find(word[i] + " " + word[i + 1]);
      if (it != ranks_.end() && it->second < best) best = it->second, best_at = i;
    }
    if (best == std::numeric_limits<int>::max()) break;
    const std::string first = word[best_at], second = word[best_at + 1];
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        i += 1;
      }
    }
    word = std::move(merged);
  }
  std::vector<int64_t> ids;
  for (const std::string& symbol : word) ids.push_back(encoder_.at(symbol));  // checked at load
  std::lock_guard<std::mutex> lock(cache_->mutex);
  cache_->ids.emplace(piece, ids);
  return ids;
}

std::vector<int64_t> Gpt2Bpe::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (const std::string& piece : pre_tokenize(text, pre_)) {
    const std::vector<int64_t> piece_ids = bpe(piece);
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
  }
  return ids;
}

std::string Gpt2Bpe::decode_bytes(const std::vector<int64_t>& ids) const {
  std::string bytes;
  for (int64_t id : ids) {
    if (!has_id(id)) throw std::out_of_range("token id " + std::to_string(id) + " is no token of " + source_);
    bytes += decoder_[static_cast<size_t>(id)];
  }
  return bytes;
}

std::string Gpt2Bpe::decode(const std::vector<int64_t>& ids) const { return utf8_replace_invalid(decode_bytes(ids)); }

}  // namespace mlspeed::text
