// LlamaTokenizer against a small vocabulary built here, whose expected ids are derived by hand in
// the comments, against a naive O(n^2) merge on random texts, and against SentencePiece's own
// encodings of a model trained with Llama's options (llama_tokenizer_cases.h).
#include "mlspeed/text/llama_tokenizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/text/llama_tokenizer_cases.h"

namespace mlspeed::text {
namespace {

using LlamaIds = std::vector<int32_t>;
const std::string kLlamaSp = "\xE2\x96\x81";  // "▁"

// A vocabulary laid out as Llama's: <unk>, <s>, </s>, the 256 byte tokens, then pieces.
struct LlamaTestVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;

  void add(const std::string& token, float score, LlamaTokenType type = LlamaTokenType::normal) {
    tokens.push_back(token);
    scores.push_back(score);
    types.push_back(static_cast<int32_t>(type));
  }
  LlamaTokenizer make(bool add_space_prefix = true) const {
    return LlamaTokenizer(tokens, scores, types, LlamaSpecialIds{}, add_space_prefix);
  }
};

std::string llama_test_byte(int b) {
  const char* hex = "0123456789ABCDEF";
  return std::string("<0x") + hex[b >> 4] + hex[b & 15] + ">";
}

LlamaTestVocab llama_test_vocab(bool with_bytes = true) {
  LlamaTestVocab v;
  v.add("<unk>", 0, LlamaTokenType::unknown);
  v.add("<s>", 0, LlamaTokenType::control);
  v.add("</s>", 0, LlamaTokenType::control);
  if (with_bytes)
    for (int b = 0; b < 256; ++b) v.add(llama_test_byte(b), 0, LlamaTokenType::byte);
  // Single characters: their scores never matter, as no merge forms them.
  for (const char* c : {"\xE2\x96\x81", "h", "e", "l", "o", "w", "r", "d", "a", "b", "c", "x", "y", "z", "0", "2", "4",
                        "\xC3\xA9" /* é */})
    v.add(c, -100);
  v.add("lo", -1);
  v.add("or", -1.5f);
  v.add("ll", -2);
  v.add("aa", -2.2f);
  v.add("ld", -2.5f);
  v.add("he", -3);
  v.add("orld", -3.5f);
  v.add("llo", -4);
  v.add("hello", -6);
  v.add(kLlamaSp + "hello", -7);
  v.add(kLlamaSp + "w", -8);
  v.add(kLlamaSp + "world", -9);
  v.add("bc", -0.5f);
  v.add("ab", -5);
  v.add(kLlamaSp + kLlamaSp, -20);
  v.add("xy", -1.2f, LlamaTokenType::unused);
  v.add("xyz", -2.4f);
  v.add("<|x|>", 0, LlamaTokenType::user_defined);
  v.add("o<|x|>", 10);  // would merge first if user-defined tokens were not frozen
  return v;
}

class LlamaTokenizerTest : public ::testing::Test {
 protected:
  LlamaTestVocab vocab = llama_test_vocab();
  LlamaTokenizer tok = vocab.make();
  int32_t id(const std::string& piece) const {
    const int32_t found = tok.id(piece);
    EXPECT_GE(found, 0) << piece;
    return found;
  }
  int32_t byte(int b) const { return 3 + b; }
  LlamaIds ids(std::initializer_list<const char*> pieces) const {
    LlamaIds out;
    for (const char* p : pieces) out.push_back(id(p));
    return out;
  }
  LlamaIds encode(const std::string& text) const { return tok.encode(text, false); }
};

TEST_F(LlamaTokenizerTest, MergesTheBestScoredPairFirst) {
  // ▁hello▁world: lo(-1), or(-1.5), ld(-2.5), he(-3), orld(-3.5), llo(-4), hello(-6), ▁hello(-7),
  // ▁w(-8), ▁world(-9); ll(-2) never merges, as lo took its second l first.
  EXPECT_EQ(encode("hello world"), ids({"▁hello", "▁world"}));
  EXPECT_EQ(tok.encode("hello world"), (LlamaIds{1, id("▁hello"), id("▁world")}));
  // ▁ a b c: bc(-0.5) beats ab(-5), though ab is further left (merging leftmost-first would give ab c).
  EXPECT_EQ(encode("abc"), ids({"▁", "a", "bc"}));
  EXPECT_EQ(encode("ab"), ids({"▁", "ab"}));
  // Without the ▁ in front, "world" has no ▁w: w orld.
  EXPECT_EQ(encode("hello\nworld"), (LlamaIds{id("▁hello"), byte('\n'), id("w"), id("orld")}));
}

TEST_F(LlamaTokenizerTest, BreaksTiesLeftmostFirst) {
  // ▁ a a a: both aa pairs score -2.2; the left one merges, and aa a makes no piece.
  EXPECT_EQ(encode("aaa"), ids({"▁", "aa", "a"}));
  EXPECT_EQ(encode("aaaa"), ids({"▁", "aa", "aa"}));
  // a ▁ ▁ ▁ b: the first ▁▁ merges.
  EXPECT_EQ(encode("a   b"), ids({"▁", "a", "▁▁", "▁", "b"}));
}

TEST_F(LlamaTokenizerTest, PrefixesASpaceAndWritesSpacesAsU2581) {
  EXPECT_EQ(encode("hello"), ids({"▁hello"}));
  EXPECT_EQ(encode("a  b"), ids({"▁", "a", "▁▁", "b"}));
  // Leading spaces: ▁ ▁ hello, where ▁hello(-7) beats ▁▁(-20).
  EXPECT_EQ(encode(" hello"), ids({"▁", "▁hello"}));
  EXPECT_EQ(encode("hello  "), ids({"▁hello", "▁▁"}));
  EXPECT_EQ(encode(" "), ids({"▁▁"}));
  // No prefix when the model says so.
  const LlamaTokenizer bare = vocab.make(false);
  EXPECT_EQ(bare.encode("hello world", false), ids({"hello", "▁world"}));
  EXPECT_EQ(bare.decode(ids({"▁hello"})), " hello");  // nor any space dropped
}

TEST_F(LlamaTokenizerTest, FallsBackToBytes) {
  EXPECT_EQ(encode("\xE2\x82\xAC"), (LlamaIds{id("▁"), byte(0xE2), byte(0x82), byte(0xAC)}));  // €
  EXPECT_EQ(encode("\xC3\xA9\xE2\x82\xAC"), (LlamaIds{id("▁"), id("é"), byte(0xE2), byte(0x82), byte(0xAC)}));
  EXPECT_EQ(encode("\xF0\x9F\x98\x80"), (LlamaIds{id("▁"), byte(0xF0), byte(0x9F), byte(0x98), byte(0x80)}));  // 😀
  EXPECT_EQ(encode("\n"), (LlamaIds{id("▁"), byte('\n')}));
  EXPECT_EQ(encode("a\tb"), (LlamaIds{id("▁"), id("a"), byte('\t'), id("b")}));
  // Invalid UTF-8: each bad byte is a symbol of its own, so it comes back unchanged.
  EXPECT_EQ(encode("a\xFF" "b"), (LlamaIds{id("▁"), id("a"), byte(0xFF), id("b")}));
  EXPECT_EQ(encode("\xE2\x82" "a"), (LlamaIds{id("▁"), byte(0xE2), byte(0x82), id("a")}));
  EXPECT_EQ(encode("\x80"), (LlamaIds{id("▁"), byte(0x80)}));
  // Control tokens written in the text are plain text.
  EXPECT_EQ(encode("<s>"), (LlamaIds{id("▁"), byte('<'), byte('s'), byte('>')}));
}

TEST_F(LlamaTokenizerTest, EncodesDigitsOneByOne) {
  EXPECT_EQ(encode("2024"), ids({"▁", "2", "0", "2", "4"}));
  EXPECT_EQ(encode("a 42"), (LlamaIds{id("▁"), id("a"), id("▁"), id("4"), id("2")}));
}

TEST_F(LlamaTokenizerTest, AddsBosAndEos) {
  EXPECT_EQ(tok.encode(""), LlamaIds{1});
  EXPECT_EQ(tok.encode("", false), LlamaIds{});
  EXPECT_EQ(tok.encode("", true, true), (LlamaIds{1, 2}));
  EXPECT_EQ(tok.encode("ab", true, true), (LlamaIds{1, id("▁"), id("ab"), 2}));
}

TEST_F(LlamaTokenizerTest, KeepsUserDefinedTokensWhole) {
  // o<|x|> scores 10 but <|x|> never merges; no space is prefixed after it (SentencePiece).
  EXPECT_EQ(encode("hello<|x|>hello"), ids({"▁hello", "<|x|>", "hello"}));
  EXPECT_EQ(encode("<|x|><|x|>"), ids({"▁", "<|x|>", "<|x|>"}));
  EXPECT_EQ(tok.decode(ids({"▁hello", "<|x|>", "hello"})), "hello<|x|>hello");
}

TEST_F(LlamaTokenizerTest, SplitsMergedUnusedPiecesBack) {
  // xy is unused: it merges on the way to xyz, and is split back when it stays.
  EXPECT_EQ(encode("xyz"), ids({"▁", "xyz"}));
  EXPECT_EQ(encode("xy"), ids({"▁", "x", "y"}));
}

TEST_F(LlamaTokenizerTest, DecodesPieces) {
  EXPECT_EQ(tok.decode({1, id("▁hello"), id("▁world"), 2}), "hello world");  // BOS, EOS give nothing
  EXPECT_EQ(tok.decode(ids({"▁hello"})), "hello");  // the prefix space goes at the start, BOS or not
  EXPECT_EQ(tok.decode(ids({"▁", "▁hello"})), " hello");  // only one space goes
  EXPECT_EQ(tok.decode(ids({"hello", "▁▁"})), "hello  ");
  EXPECT_EQ(tok.decode({0, id("a")}), "a");  // <unk> gives nothing either
  // A character split over byte tokens re-assembles; one cut short becomes U+FFFD in decode.
  EXPECT_EQ(tok.decode({byte(0xE2), byte(0x82), byte(0xAC)}), "\xE2\x82\xAC");
  EXPECT_EQ(tok.decode({id("a"), byte(0xE2), byte(0x82)}), "a\xEF\xBF\xBD");
  EXPECT_EQ(tok.decode_bytes({id("a"), byte(0xE2), byte(0x82)}), "a\xE2\x82");
  EXPECT_THROW(tok.decode({tok.vocab_size()}), std::out_of_range);
  EXPECT_THROW(tok.decode({-1}), std::out_of_range);
}

TEST_F(LlamaTokenizerTest, DecodesOnePieceAtATime) {
  EXPECT_EQ(tok.decode_piece(id("▁hello")), " hello");
  EXPECT_EQ(tok.decode_piece(id("▁▁")), "  ");
  EXPECT_EQ(tok.decode_piece(byte('\n')), "\n");
  EXPECT_EQ(tok.decode_piece(byte(0xE2)), "\xE2");
  EXPECT_EQ(tok.decode_piece(1), "");
  EXPECT_EQ(tok.decode_piece(0), "");
  EXPECT_THROW(tok.decode_piece(tok.vocab_size()), std::out_of_range);
  // Streaming the pieces of a text gives it back, less nothing but the prefix space.
  std::string streamed;
  for (int32_t i : tok.encode("hello \xE2\x82\xAC world")) streamed += tok.decode_piece(i);
  EXPECT_EQ(streamed, " hello \xE2\x82\xAC world");
}

TEST_F(LlamaTokenizerTest, DecodeUndoesEncode) {
  for (const std::string text :
       {"", "hello world", " leading", "trailing  ", "  a   b    c ", "line\nbreak\r\n", "tab\there", "\xE2\x82\xACuro",
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "\xF0\x9F\x98\x80 emoji", "caf\xC3\xA9 \xC3\x9Cn\xC3\xAF",
        "<s> not special </s>", "<|x|>", "xy xyz", "mixed 123 \xC2\xBD", "\n\n\n", " "}) {
    EXPECT_EQ(tok.decode(tok.encode(text)), text) << text;
    EXPECT_EQ(tok.decode(tok.encode(text, false, true)), text) << text;
  }
  // U+2581 in the text is a space to SentencePiece, so it comes back as one.
  EXPECT_EQ(tok.decode(tok.encode("a\xE2\x96\x81" "b")), "a b");
  // Invalid UTF-8 comes back byte for byte from decode_bytes.
  const std::string bad = "a\xFF\xE2\x82 \x80z";
  EXPECT_EQ(tok.decode_bytes(tok.encode(bad)), bad);
}

TEST(LlamaTokenizer, UsesTheUnknownIdWithoutByteTokens) {
  const LlamaTokenizer tok = llama_test_vocab(false).make();
  EXPECT_FALSE(tok.has_byte_tokens());
  const int32_t a = tok.id("a"), sp = tok.id("\xE2\x96\x81");
  EXPECT_EQ(tok.encode("a\xE2\x82\xAC" "a", false), (LlamaIds{sp, a, 0, a}));
  EXPECT_EQ(tok.encode("\xE2\x82\xAC\xE2\x82\xAC", false), (LlamaIds{sp, 0, 0}));  // one per character
  EXPECT_EQ(tok.decode(tok.encode("a\xE2\x82\xAC" "a")), "aa");
}

// The merge loop spelled out the slow way: every round scans all pairs for the best (leftmost
// on a tie). No user-defined or unused pieces: the random texts below contain none.
LlamaIds llama_test_naive_encode(const LlamaTestVocab& v, const std::string& text) {
  if (text.empty()) return {};
  std::unordered_map<std::string, int32_t> ids;
  for (size_t i = 0; i < v.tokens.size(); ++i)
    if (v.types[i] == static_cast<int32_t>(LlamaTokenType::normal)) ids.emplace(v.tokens[i], static_cast<int32_t>(i));
  std::vector<std::string> symbols;
  std::string normalized = kLlamaSp;
  for (char c : text) normalized += c == ' ' ? kLlamaSp : std::string(1, c);
  for (size_t i = 0; i < normalized.size();) {
    const auto lead = static_cast<uint8_t>(normalized[i]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;  // valid UTF-8 only
    symbols.push_back(normalized.substr(i, length));
    i += length;
  }
  for (;;) {
    size_t best = symbols.size();
    float best_score = -std::numeric_limits<float>::infinity();
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto it = ids.find(symbols[i] + symbols[i + 1]);
      if (it != ids.end() && (best == symbols.size() || v.scores[static_cast<size_t>(it->second)] > best_score))
        best = i, best_score = v.scores[static_cast<size_t>(it->second)];
    }
    if (best == symbols.size()) break;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  LlamaIds out;
  for (const std::string& s : symbols) {
    const auto it = ids.find(s);
    if (it != ids.end()) {
      out.push_back(it->second);
      continue;
    }
    for (unsigned char b : s) out.push_back(3 + b);
  }
  return out;
}

TEST(LlamaTokenizer, MatchesANaiveMergeOnRandomTexts) {
  const LlamaTestVocab vocab = llama_test_vocab();
  const LlamaTokenizer tok = vocab.make();
  const std::vector<std::string> alphabet = {" ", " ", "h", "e", "l", "l", "o", "w", "r", "d", "a", "a", "b", "c",
                                             "z", "2", "\n", "\xC3\xA9", "\xE2\x82\xAC", "hello", "world"};
  std::mt19937 random(12345);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 24);
    for (int i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
    ASSERT_EQ(tok.encode(text, false), llama_test_naive_encode(vocab, text)) << '"' << text << '"';
    ASSERT_EQ(tok.decode(tok.encode(text)), text);
  }
}

TEST(LlamaTokenizer, MatchesSentencePiece) {
  const llama_cases::LlamaSpmVocabulary v = llama_cases::spm_vocabulary();
  const LlamaTokenizer tok(v.tokens, v.scores, v.types, LlamaSpecialIds{}, true);
  ASSERT_EQ(tok.vocab_size(), 420);
  for (const llama_cases::LlamaSpmCase& c : llama_cases::spm_cases()) {
    EXPECT_EQ(tok.encode(c.text, false), c.ids) << '"' << c.text << '"';
    // SentencePiece decodes "▁" in the text as a space.
    if (c.text.find("\xE2\x96\x81") == std::string::npos) {
      EXPECT_EQ(tok.decode(c.ids), c.text) << c.text;
    }
  }
}

// Long inputs stay fast: the merge queue makes encode O(n log n), where a scan of all pairs per
// merge would take minutes here.
TEST_F(LlamaTokenizerTest, EncodesLongTexts) {
  const LlamaIds as = encode(std::string(100'000, 'a'));  // ▁ then 50,000 aa
  ASSERT_EQ(as.size(), 50'001u);
  EXPECT_EQ(as.front(), id("▁"));
  EXPECT_EQ(as.back(), id("aa"));
  const LlamaIds spaces = encode(std::string(99'999, ' '));  // 100,000 ▁: 50,000 ▁▁
  EXPECT_EQ(spaces, LlamaIds(50'000, id("▁▁")));
  std::string mixed;
  while (mixed.size() < 100'000) mixed += "hello world abc aaa xyz \xE2\x82\xAC\xC3\xA9 2024\n";
  const LlamaIds ids = tok.encode(mixed);
  EXPECT_EQ(tok.decode(ids), mixed);
  EXPECT_GT(ids.size(), mixed.size() / 4);
}

TEST(LlamaChatPrompt, WritesLlama2sFormat) {
  EXPECT_EQ(llama2_chat_prompt("You are helpful.", "Hi there"),
            "[INST] <<SYS>>\nYou are helpful.\n<</SYS>>\n\nHi there [/INST]");
  EXPECT_EQ(llama2_chat_prompt("", "Hi there"), "[INST] Hi there [/INST]");
}

// Each malformed vocabulary, made from the good one by `spoil`, is refused with `message`.
void llama_test_expect_rejected(const std::function<void(LlamaTestVocab&, LlamaSpecialIds&)>& spoil,
                                const std::string& message) {
  LlamaTestVocab v = llama_test_vocab();
  LlamaSpecialIds ids;
  spoil(v, ids);
  try {
    LlamaTokenizer(v.tokens, v.scores, v.types, ids, true);
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what() << "\nexpected: " << message;
  }
}

TEST(LlamaTokenizer, RejectsMalformedVocabularies) {
  using V = LlamaTestVocab;
  using S = LlamaSpecialIds;
  llama_test_expect_rejected([](V& v, S&) { v = V{}; }, "tokenizer.ggml.tokens is empty");
  llama_test_expect_rejected([](V& v, S&) { v.scores.pop_back(); },
                             "tokenizer.ggml.scores has 295 entries but tokenizer.ggml.tokens has 296");
  llama_test_expect_rejected([](V& v, S&) { v.types.push_back(1); },
                             "tokenizer.ggml.token_type has 297 entries but tokenizer.ggml.tokens has 296");
  llama_test_expect_rejected([](V& v, S&) { v.tokens[260] = "a\xC3"; },
                             "token 260 is not valid UTF-8 (byte offset 1 of the token)");
  llama_test_expect_rejected([](V& v, S&) { v.types[260] = 7; }, "token 260 (\"h\") has the type 7; expected 1");
  llama_test_expect_rejected([](V& v, S&) { v.types[260] = 0; }, "has the type 0");
  llama_test_expect_rejected([](V& v, S&) { v.scores[260] = std::nanf(""); }, "token 260 (\"h\") has the score NaN");
  llama_test_expect_rejected([](V& v, S&) { v.tokens[3 + 10] = "<0x0a>"; },
                             "token 13 is a byte token (type 6) but reads \"<0x0a>\"; expected <0xXX>");
  llama_test_expect_rejected([](V& v, S&) { v.tokens[3 + 10] = "<0xG1>"; }, "reads \"<0xG1>\"");
  llama_test_expect_rejected([](V& v, S&) { v.tokens[3 + 10] = "<0x0B>"; },
                             "tokens 13 and 14 are both the byte token <0x0B>");
  llama_test_expect_rejected([](V& v, S&) { v.types[3 + 0x7F] = 1; },
                             "has 255 byte tokens but none for <0x7F>; byte fallback needs all 256");
  llama_test_expect_rejected([](V&, S& ids) { ids.bos = 296; },
                             "tokenizer.ggml.bos_token_id is 296; expected an id from 0 to 295");
  llama_test_expect_rejected([](V&, S& ids) { ids.eos = -1; }, "tokenizer.ggml.eos_token_id is -1");
  llama_test_expect_rejected([](V&, S& ids) { ids.unknown = 1000; }, "tokenizer.ggml.unknown_token_id is 1000");
  llama_test_expect_rejected([](V&, S& ids) { ids.padding = -2; },
                             "tokenizer.ggml.padding_token_id is -2; expected an id from 0 to 295 (or none)");
}

TEST(LlamaTokenizer, AcceptsAnOptionalPaddingIdAndRepeatedPieces) {
  LlamaTestVocab v = llama_test_vocab();
  v.add("he", -0.1f);  // a repeat keeps the first id, and its score
  LlamaSpecialIds ids;
  ids.padding = 0;
  const LlamaTokenizer tok(v.tokens, v.scores, v.types, ids, true);
  EXPECT_EQ(tok.special_ids().padding, 0);
  EXPECT_EQ(tok.id("he"), llama_test_vocab().make().id("he"));
  EXPECT_EQ(tok.encode("he", false), llama_test_vocab().make().encode("he", false));
  EXPECT_EQ(tok.type(1), LlamaTokenType::control);
  EXPECT_EQ(tok.token(3 + 0x41), "<0x41>");
  EXPECT_EQ(tok.id("nope"), -1);
}

}  // namespace
}  // namespace mlspeed::text
