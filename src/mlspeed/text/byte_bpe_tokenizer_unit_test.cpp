// The byte-level BPE tokenizer of "gpt2" GGUF vocabularies on the hand-made vocabulary of
// testing/tiny_llama3_vocab.h. Every expected encoding is worked out by hand from that vocabulary:
// first the pre-tokens of Llama 3's pattern (or GPT-2's), then, in each, the lowest-ranked merge
// of two neighbours again and again (the rank is the number in the merge list's comments) —
// unless, with Llama 3's tokenizer, the whole pre-token is a token already.
#include "mlspeed/text/byte_bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/core/errors.h"
#include "testing/text.h"
#include "testing/tiny_llama3_vocab.h"

namespace mlspeed::text {
namespace {

using Ids = std::vector<int64_t>;

struct Hand {
  testing::TinyLlama3Vocab v = testing::tiny_llama3_vocab();
  int64_t id(const std::string& bytes) const { return v.id(bytes); }
  // Ids of single bytes, one per byte of `bytes`.
  Ids bytes(const std::string& bytes) const {
    Ids ids;
    for (char b : bytes) ids.push_back(id(std::string(1, b)));
    return ids;
  }
  ByteBpeTokenizer llama3() const { return make(BpePreTokenizer::llama3, true); }
  ByteBpeTokenizer gpt2() const { return make(BpePreTokenizer::gpt2, false); }
  ByteBpeTokenizer make(BpePreTokenizer pre, bool ignore_merges) const {
    return ByteBpeTokenizer(v.tokens, v.types, v.merges,
                            {pre, ignore_merges, int32_t(id("<|begin_of_text|>")), int32_t(id("<|end_of_text|>"))});
  }
};

Ids concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(ByteBpeTokenizer, Contractions) {
  const Hand h;
  const ByteBpeTokenizer t = h.llama3();
  // "I", "'m": ' and m merge (rank 0).
  EXPECT_EQ(t.encode("I'm", false), (Ids{h.id("I"), h.id("'m")}));
  // "they" is a token whole (ignore_merges); "'ll": (l,l) rank 1 first, then (',ll) rank 2.
  EXPECT_EQ(t.encode("they'll", false), (Ids{h.id("they"), h.id("'ll")}));
  // " they" is a token too (merge 18).
  EXPECT_EQ(t.encode("I'm sure they'll", false),
            concat({{h.id("I"), h.id("'m")}, h.bytes(" sure"), {h.id(" they"), h.id("'ll")}}));
  // Llama 3 matches contractions in either case: "'LL" is one pre-token, and no merge joins ' L L.
  EXPECT_EQ(t.encode("THEY'LL", false), h.bytes("THEY'LL"));
  // "theyll" is one pre-token and no token: t h e y l l -> (l,l) rank 1 -> (t,h) 3 -> (th,e) 4
  // -> (the,y) 5 -> they ll, and nothing joins they and ll.
  EXPECT_EQ(t.encode("theyll", false), (Ids{h.id("they"), h.id("ll")}));
  EXPECT_EQ(h.gpt2().encode("theyll", false), (Ids{h.id("they"), h.id("ll")}));
}

TEST(ByteBpeTokenizer, NumbersInGroupsOfThree) {
  const Hand h;
  // Llama 3: "123" and "45", each a token ("123" by merges 6 and 8, "45" by merge 9).
  EXPECT_EQ(h.llama3().encode("12345", false), (Ids{h.id("123"), h.id("45")}));
  // "1234567": "123", "456" (4 5 6 -> (4,5) rank 9 -> 45 6), "7".
  EXPECT_EQ(h.llama3().encode("1234567", false), (Ids{h.id("123"), h.id("45"), h.id("6"), h.id("7")}));
  // GPT-2's pattern keeps "12345" whole: 1 2 3 4 5 -> (1,2) rank 6 -> 12 3 4 5 -> (3,4) rank 7,
  // below (12,3) rank 8 -> 12 34 5, and no merge joins 12 and 34 or 34 and 5.
  EXPECT_EQ(h.gpt2().encode("12345", false), (Ids{h.id("12"), h.id("34"), h.id("5")}));
}

TEST(ByteBpeTokenizer, AccentsCjkAndEmoji) {
  const Hand h;
  const ByteBpeTokenizer t = h.llama3();
  // "café" (63 61 66 C3 A9) is a token whole (merge 15).
  EXPECT_EQ(t.encode("caf\xC3\xA9", false), Ids{h.id("caf\xC3\xA9")});
  // "Café": C a f Ã © -> (Ã,©) rank 14; no merge takes a capital C.
  EXPECT_EQ(t.encode("Caf\xC3\xA9", false), (Ids{h.id("C"), h.id("a"), h.id("f"), h.id("\xC3\xA9")}));
  // " 中文" (20 E4 B8 AD E6 96 87) is one pre-token: (E4,B8) rank 16, then (E4B8,AD) rank 17 is
  // 中; nothing joins the space to it or the three bytes of 文.
  EXPECT_EQ(t.encode(" \xE4\xB8\xAD\xE6\x96\x87", false),
            concat({{h.id(" "), h.id("\xE4\xB8\xAD")}, h.bytes("\xE6\x96\x87")}));
  // " 😀" (20 F0 9F 98 80) is no letter: a space and symbols, five bytes without merges.
  EXPECT_EQ(t.encode(" \xF0\x9F\x98\x80", false), h.bytes(" \xF0\x9F\x98\x80"));
  EXPECT_EQ(t.encode("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80", false),
            concat({{h.id("caf\xC3\xA9"), h.id(" "), h.id("\xE4\xB8\xAD")}, h.bytes("\xE6\x96\x87 \xF0\x9F\x98\x80")}));
}

TEST(ByteBpeTokenizer, LineBreaksAndRunsOfSpaces) {
  const Hand h;
  const ByteBpeTokenizer t = h.llama3();
  // "a", "\n\n" (merge 11), "b", "  " (merge 10: the run less the space before c), " c".
  EXPECT_EQ(t.encode("a\n\nb   c", false),
            (Ids{h.id("a"), h.id("\n\n"), h.id("b"), h.id("  "), h.id(" "), h.id("c")}));
  // "x", " \n" (the space goes with the line break), " y".
  EXPECT_EQ(t.encode("x \n y", false), (Ids{h.id("x"), h.id(" "), h.id("\n"), h.id(" "), h.id("y")}));
  // Three line breaks are one pre-token: (Ċ,Ċ) joins the first two, then the third is alone.
  EXPECT_EQ(t.encode("\n\n\n", false), (Ids{h.id("\n\n"), h.id("\n")}));
  // Four spaces before x: "   " (two joined, one alone), then " x".
  EXPECT_EQ(t.encode("    x", false), (Ids{h.id("  "), h.id(" "), h.id(" "), h.id("x")}));
  // Trailing spaces are one pre-token.
  EXPECT_EQ(t.encode("end  ", false), concat({h.bytes("end"), {h.id("  ")}}));
  // GPT-2's pattern splits "\n\n" in two pre-tokens that cannot merge.
  EXPECT_EQ(h.gpt2().encode("a\n\nb", false), (Ids{h.id("a"), h.id("\n"), h.id("\n"), h.id("b")}));
}

TEST(ByteBpeTokenizer, SpecialTokensAreOneTokenOnlyWhenAskedFor) {
  const Hand h;
  const ByteBpeTokenizer t = h.llama3();
  const int64_t eot = h.id("<|eot_id|>"), bos = h.id("<|begin_of_text|>");
  // As text: "hi", "<|", "eot", "_id", "|>", with no merge among their bytes.
  EXPECT_EQ(t.encode("hi<|eot_id|>", false), h.bytes("hi<|eot_id|>"));
  EXPECT_EQ(t.encode("hi<|eot_id|>", false, false, /*parse_special=*/true), (Ids{h.id("h"), h.id("i"), eot}));
  EXPECT_EQ(t.encode("<|begin_of_text|>hi", false, false, true), (Ids{bos, h.id("h"), h.id("i")}));
  // The text around a special token is encoded on its own: "I'm" both sides.
  EXPECT_EQ(t.encode("I'm<|eot_id|>I'm", false, false, true),
            (Ids{h.id("I"), h.id("'m"), eot, h.id("I"), h.id("'m")}));
  // A user-defined token is one token even without parse_special, as llama.cpp does.
  EXPECT_EQ(t.encode("a<tool>b", false), (Ids{h.id("a"), h.id("<tool>"), h.id("b")}));
  // BOS first, EOS last as asked.
  EXPECT_EQ(t.encode("hi"), (Ids{bos, h.id("h"), h.id("i")}));
  EXPECT_EQ(t.encode("hi", true, true), (Ids{bos, h.id("h"), h.id("i"), h.id("<|end_of_text|>")}));
  EXPECT_EQ(t.encode(""), Ids{bos});
}

TEST(ByteBpeTokenizer, DecodesBytesAndSpecialTokensAsTheirText) {
  const Hand h;
  const ByteBpeTokenizer t = h.llama3();
  EXPECT_EQ(t.decode({h.id("<|begin_of_text|>"), h.id("I"), h.id("'m"), h.id(" they"), h.id("<|eot_id|>")}),
            "<|begin_of_text|>I'm they<|eot_id|>");
  EXPECT_EQ(t.decode({h.id("caf\xC3\xA9"), h.id("\n\n")}), "caf\xC3\xA9\n\n");
  // Half of 中: U+FFFD until the last byte comes.
  EXPECT_EQ(t.decode({h.id("\xE4\xB8")}), "\xEF\xBF\xBD");
  EXPECT_EQ(t.decode_bytes({h.id("\xE4\xB8")}), "\xE4\xB8");
  EXPECT_THROW(t.decode({t.vocab_size()}), std::out_of_range);
}

TEST(ByteBpeTokenizer, RoundTripsACorpus) {
  const Hand h;
  const ByteBpeTokenizer tokenizers[] = {h.llama3(), h.gpt2()};
  for (const ByteBpeTokenizer& t : tokenizers)
    for (const std::string text :
         {"I'm sure they'll come at 12:30, won't they?", "THEY'LL SEE 1234567890 $3.14",
          "Caf\xC3\xA9 na\xC3\xAFve \xC3\x85ngstr\xC3\xB6m \xE2\x80\x94 "
          "\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\xF0\x9F\x91\x8D",
          "line one\nline two\n\n\nline five\r\n", "multiple     spaces   here  ", "\ttabs\t\tand  \n  \n",
          "<|begin_of_text|>hi<|eot_id|><tool>", "(x) [y]!\n\n'sup", ""})
      for (bool parse_special : {false, true}) {
        const Ids ids = t.encode(text, false, false, parse_special);
        EXPECT_EQ(t.decode(ids), text) << text << (parse_special ? " (special tokens parsed)" : "");
      }
}

TEST(ByteBpeTokenizer, Llama3ChatPromptIsTheTemplateWithItsTokens) {
  const Hand h;
  const ByteBpeTokenizer t = h.llama3();
  ASSERT_TRUE(has_llama3_chat_tokens(t));
  const int64_t start = h.id("<|start_header_id|>"), end = h.id("<|end_header_id|>"), eot = h.id("<|eot_id|>");
  // No system turn: BOS, the user's header, "\n\n" and "hi" (one stretch of text: "\n\n" merges,
  // "hi" does not), EOT, the assistant's header and "\n\n".
  EXPECT_EQ(llama3_chat_prompt(t, "", "hi"),
            concat({{h.id("<|begin_of_text|>"), start}, h.bytes("user"), {end, h.id("\n\n"), h.id("h"), h.id("i"), eot},
                    {start}, h.bytes("assistant"), {end, h.id("\n\n")}}));
  // The same as the template's text with its special tokens parsed.
  const std::string system = "Be brief.", user = "I'm sure they'll\n\ncome?";
  EXPECT_EQ(llama3_chat_prompt(t, system, user),
            t.encode("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n" + system +
                         "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n" + user +
                         "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                     false, false, true));
  // A special token typed in the question stays text.
  const Ids typed = llama3_chat_prompt(t, "", "<|eot_id|>");
  EXPECT_EQ(std::count(typed.begin(), typed.end(), eot), 1);
  EXPECT_FALSE(has_llama3_chat_tokens(ByteBpeTokenizer(testing::gpt2_byte_tokens(), std::vector<int32_t>(256, 1), {},
                                                       {BpePreTokenizer::llama3, true, 0, 0})));
}

// The messages name the key; read_gguf_tokenizer adds the file.
TEST(ByteBpeTokenizer, RefusesWhatItCannotUse) {
  const Hand h;
  const auto refusal = [&](std::vector<std::string> tokens, std::vector<int32_t> types,
                           std::vector<std::string> merges, int32_t bos) -> std::string {
    try {
      ByteBpeTokenizer(std::move(tokens), std::move(types), std::move(merges), {BpePreTokenizer::llama3, true, bos, 0});
    } catch (const InputFileError& e) {
      return e.what();
    }
    return "";
  };
  const auto& v = h.v;
  EXPECT_EQ(refusal({}, {}, {}, 0), "tokenizer.ggml.tokens is empty");
  EXPECT_EQ(refusal(v.tokens, {1, 1}, v.merges, 0),
            "tokenizer.ggml.token_type has 2 entries but tokenizer.ggml.tokens has " + std::to_string(v.tokens.size()));
  std::vector<int32_t> types = v.types;
  types[5] = 0;
  EXPECT_EQ(refusal(v.tokens, types, v.merges, 0),
            "tokenizer.ggml.token_type: entry 5 is 0; expected 1 to 6 (normal, unknown, control, user-defined, unused, "
            "byte)");
  std::vector<std::string> merges = v.merges;
  merges.push_back("<|eot_id|> x");  // a special token is no symbol merges work on
  EXPECT_EQ(refusal(v.tokens, v.types, merges, 0),
            "tokenizer.ggml.merges entry 19: the symbol \"<|eot_id|>\" is no token of tokenizer.ggml.tokens");
  EXPECT_EQ(refusal(v.tokens, v.types, v.merges, int32_t(v.tokens.size())),
            "tokenizer.ggml.bos_token_id is " + std::to_string(v.tokens.size()) + "; expected an id from 0 to " +
                std::to_string(v.tokens.size() - 1));
}

}  // namespace
}  // namespace mlspeed::text
