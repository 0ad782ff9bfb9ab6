// GPT-2's byte-level BPE against a small vocabulary written by the test (testing/tiny_gpt2_vocab.h:
// the 256 byte tokens in GPT-2's order, a dozen merges), the pattern's pre-tokens against the Python `regex` module's,
// and the real vocabulary when MLSPEED_GPT2_DIR points at it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/text/gpt2_bpe.h"
#include "testing/test_support.h"
#include "testing/text.h"
#include "testing/tiny_gpt2_vocab.h"

namespace mlspeed::text {
namespace {

using testing::TempDir;
using testing::tiny_gpt2_vocab;
using testing::TinyGpt2Vocab;
using testing::write_file;

const std::string G = testing::gpt2_space();
std::string utf8(uint32_t cp) { return testing::utf8_of(cp); }

struct Files {
  TempDir dir;
  TinyGpt2Vocab vocabulary = tiny_gpt2_vocab();
  Files() { vocabulary.write_to(dir.path()); }
  void write(const std::string& encoder, const std::string& bpe) {
    write_file(dir.file("encoder.json"), encoder);
    write_file(dir.file("vocab.bpe"), bpe);
  }
  Gpt2Bpe load() const { return Gpt2Bpe::from_directory(dir.path()); }
  int64_t id(const std::string& token) const { return vocabulary.id(token); }
};

TEST(Gpt2Bpe, EncodesWithTheMergesByRank) {
  Files files;
  const Gpt2Bpe bpe = files.load();
  EXPECT_EQ(bpe.merges(), 12u);
  EXPECT_EQ(bpe.vocab_size(), 256 + 12 + 1);
  // " Spain": (i,n) ranks before (S,p), so Ġ S p a in -> Ġ S p ain -> Ġ Sp ain -> ĠSp ain -> ĠSpain.
  const std::vector<int64_t> expected = {files.id("The"), files.id(G + "rain"), files.id(G + "in"),
                                         files.id(G + "Spain")};
  EXPECT_EQ(bpe.encode("The rain in Spain"), expected);
  EXPECT_EQ(bpe.decode(expected), "The rain in Spain");
  // Every occurrence of the best pair merges at once; unranked bytes stay single.
  EXPECT_EQ(bpe.encode("inin"), (std::vector<int64_t>{files.id("in"), files.id("in")}));
  EXPECT_EQ(bpe.encode("xyz"), (std::vector<int64_t>{files.id("x"), files.id("y"), files.id("z")}));
  EXPECT_EQ(bpe.encode("the"), (std::vector<int64_t>{files.id("t"), files.id("he")}));  // no (t, he) merge
  EXPECT_EQ(bpe.encode(" the"), (std::vector<int64_t>{files.id(G + "the")}));
  EXPECT_EQ(bpe.encode("The rain"), bpe.encode("The rain"));  // cached pieces give the same ids
}

TEST(Gpt2Bpe, MapsBytesToGpt2sByteCharacters) {
  Files files;
  const Gpt2Bpe bpe = files.load();
  EXPECT_EQ(bpe.encode("!"), std::vector<int64_t>{0});  // the `!!!!` token
  EXPECT_EQ(bpe.decode({0, 0, 0, 0}), "!!!!");
  EXPECT_EQ(bpe.encode(" "), std::vector<int64_t>{files.id(G)});
  EXPECT_EQ(bpe.encode("\n"), std::vector<int64_t>{files.id(utf8(0x10A))});  // "Ċ"
  EXPECT_EQ(bpe.encode(std::string(1, '\0')), std::vector<int64_t>{files.id(utf8(0x100))});
  EXPECT_EQ(bpe.decode({files.id("<|endoftext|>")}), "<|endoftext|>");
  EXPECT_THROW(bpe.decode({bpe.vocab_size()}), std::out_of_range);
  EXPECT_THROW(bpe.decode({-1}), std::out_of_range);
}

// Expected pieces from Python: regex.findall(GPT-2's pattern, text) with the `regex` module.
TEST(Gpt2Bpe, PreTokenizesAsGpt2sPattern) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"The rain in Spain", {"The", " rain", " in", " Spain"}},
      {"Hello, world! It's 2024.", {"Hello", ",", " world", "!", " It", "'s", " 2024", "."}},
      {"I'm  fine   thanks\n\nbye", {"I", "'m", " ", " fine", "  ", " thanks", "\n", "\n", "bye"}},
      {"  leading", {" ", " leading"}},
      {"trailing   ", {"trailing", "   "}},
      {"a\n b", {"a", "\n", " b"}},
      {"x \ny", {"x", " ", "\n", "y"}},
      {"tab\there\t\tthere", {"tab", "\t", "here", "\t", "\t", "there"}},
      {"Café naïve Ελληνικά Русский 中文字 😀👍 emoji",
       {"Café", " naïve", " Ελληνικά", " Русский", " 中文字", " 😀👍", " emoji"}},
      {"don'T can't we'll they're I've he'd",
       {"don", "'", "T", " can", "'t", " we", "'ll", " they", "'re", " I", "'ve", " he", "'d"}},
      {"!!'s ''s", {"!!'", "s", " ''", "s"}},
      {"12,345.67 ３４５ ½ ² ٣", {"12", ",", "345", ".", "67", " ３４５", " ½", " ²", " ٣"}},
      {"e\xCC\x81 combining", {"e", "\xCC\x81", " combining"}},  // U+0301 is a mark, not a letter
      {"nbsp\xC2\xA0here \xE3\x80\x80ideo", {"nbsp", "\xC2\xA0", "here", " ", "\xE3\x80\x80", "ideo"}},
      {"end\n", {"end", "\n"}},
      {"   ", {"   "}},
      {"\n\n\n", {"\n\n\n"}},
      {"a  ", {"a", "  "}},
      {"' s", {"'", " s"}},
      {"x'sy", {"x", "'s", "y"}},
      {"", {}},
  };
  for (const auto& [text, pieces] : cases) EXPECT_EQ(Gpt2Bpe::pre_tokenize(text), pieces) << text;
}

// Expected pieces from Python: regex.findall(Llama 3's pattern, text) with the `regex` module
// (the pattern of gpt2_bpe.h, as Meta's tokenizer.json has it). Where GPT-2's pattern splits
// differently the comment says how.
TEST(Gpt2Bpe, PreTokenizesAsLlama3sPattern) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"The rain in Spain", {"The", " rain", " in", " Spain"}},
      {"I'm here, they'll see", {"I", "'m", " here", ",", " they", "'ll", " see"}},
      {"I'M SURE THEY'LL", {"I", "'M", " SURE", " THEY", "'LL"}},  // GPT-2: "'", "M" (lower case only)
      // Numbers in groups of three from the left (GPT-2: "12345", " 1234567", ...).
      {"12345 1234567 3.14159", {"123", "45", " ", "123", "456", "7", " ", "3", ".", "141", "59"}},
      {"\xD9\xA3\xD9\xA4\xD9\xA5\xD9\xA6 \xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95",  // Arabic-Indic, full-width digits
       {"\xD9\xA3\xD9\xA4\xD9\xA5", "\xD9\xA6", " ", "\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95"}},
      {"$100,000.50", {"$", "100", ",", "000", ".", "50"}},
      // Line breaks: a run of them (with the spaces before) is one piece (GPT-2: "\n", "\n").
      {"a\n\nb   c", {"a", "\n\n", "b", "  ", " c"}},
      {"x \n y", {"x", " \n", " y"}},
      {"a\r\nb", {"a", "\r\n", "b"}},
      {"  \n\n  leading", {"  \n\n", " ", " leading"}},
      {"x  \n", {"x", "  \n"}},
      {"!!!\n\n", {"!!!\n\n"}},  // symbols take the line breaks after them
      {"end  ", {"end", "  "}},
      {"   ", {"   "}},
      {"\n", {"\n"}},
      // One character that is no letter, number or line break leads a word (GPT-2: only a space).
      {"(hello) [world]!\n\nNext", {"(hello", ")", " [", "world", "]!\n\n", "Next"}},
      {"\tTabbed\ttext", {"\tTabbed", "\ttext"}},
      {"hi<|eot_id|>", {"hi", "<|", "eot", "_id", "|>"}},
      {"nbsp\xC2\xA0here \xE3\x80\x80ideo", {"nbsp", "\xC2\xA0here", " ", "\xE3\x80\x80ideo"}},
      {"Caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80",  // "Café 中文 😀"
       {"Caf\xC3\xA9", " \xE4\xB8\xAD\xE6\x96\x87", " \xF0\x9F\x98\x80"}},
      {"e\xCC\x81 combining", {"e", "\xCC\x81", " combining"}},  // U+0301 is a mark, not a letter
      {"'sup 'Twas", {"'s", "up", " '", "Twas"}},
      {"don't", {"don", "'t"}},
      {"", {}},
  };
  for (const auto& [text, pieces] : cases)
    EXPECT_EQ(Gpt2Bpe::pre_tokenize(text, BpePreTokenizer::llama3), pieces) << text;
  // Bytes that are not UTF-8 are "other" characters, one each: pre-tokenised, never lost.
  EXPECT_EQ(Gpt2Bpe::pre_tokenize("a\xFF\xFE" "b", BpePreTokenizer::llama3),
            (std::vector<std::string>{"a", "\xFF\xFE", "b"}));
}

// The tiny vocabulary of the files, in memory, as a GGUF file holds it: tokens by id, merges by rank.
Gpt2BpeVocabulary in_memory(const TinyGpt2Vocab& tiny) {
  Gpt2BpeVocabulary v;
  v.tokens.resize(tiny.ids.size());
  for (const auto& [token, id] : tiny.ids) v.tokens[static_cast<size_t>(id)] = token;
  for (const auto& [a, b] : tiny.merges) v.merges.push_back(a + " " + b);
  v.tokens_name = "tokenizer.ggml.tokens";
  v.merges_name = "tokenizer.ggml.merges";
  return v;
}

TEST(Gpt2Bpe, ReadsAVocabularyFromMemoryAsFromFiles) {
  Files files;
  const Gpt2Bpe from_files = files.load();
  Gpt2BpeVocabulary v = in_memory(files.vocabulary);
  v.literal.assign(v.tokens.size(), false);
  v.literal[static_cast<size_t>(files.id("<|endoftext|>"))] = true;
  const Gpt2Bpe bpe(v);
  EXPECT_EQ(bpe.vocab_size(), from_files.vocab_size());
  EXPECT_EQ(bpe.merges(), 12u);
  for (const std::string text : {"The rain in Spain", "inin the xyz", "Caf\xC3\xA9\n\n  x", "<|endoftext|>"})
    EXPECT_EQ(bpe.encode(text), from_files.encode(text)) << text;
  // A literal (special) token is never the result of merging, and decodes as written.
  EXPECT_EQ(bpe.decode({files.id("<|endoftext|>"), files.id("The")}), "<|endoftext|>The");
}

// Llama 3's tokenizer takes a pre-token that is a token as a whole, merges or not: here " Spain"
// is a token, and also " pain", which no merge makes (the merges stop at " p" ... "ain": none of
// them joins "p" and "ain" or " " and "p").
TEST(Gpt2Bpe, IgnoreMergesTakesAWholeTokenFirst) {
  Files files;
  Gpt2BpeVocabulary v = in_memory(files.vocabulary);
  const int64_t pain = static_cast<int64_t>(v.tokens.size());
  v.tokens.push_back(G + "pain");
  Gpt2BpeVocabulary llama3 = v;
  llama3.pre = BpePreTokenizer::llama3;
  llama3.ignore_merges = true;
  // Without: " pain" is " ", "p", "ain" (the merges (i,n), (a,in) make "ain"; nothing joins the rest).
  EXPECT_EQ(Gpt2Bpe(v).encode(" pain"), (std::vector<int64_t>{files.id(G), files.id("p"), files.id("ain")}));
  EXPECT_EQ(Gpt2Bpe(llama3).encode(" pain"), std::vector<int64_t>{pain});
  EXPECT_EQ(Gpt2Bpe(llama3).encode(" Spain"), std::vector<int64_t>{files.id(G + "Spain")});
  // Llama 3's pattern: "12345" is two pre-tokens, each of bytes here.
  EXPECT_EQ(Gpt2Bpe(llama3).encode("12345"), (std::vector<int64_t>{files.id("1"), files.id("2"), files.id("3"),
                                                                   files.id("4"), files.id("5")}));
}

// The messages name the list and the entry (merges by their index, from 0; tokens by id).
TEST(Gpt2Bpe, AVocabularyInMemoryIsCheckedAsFilesAre) {
  const TinyGpt2Vocab tiny = tiny_gpt2_vocab();
  const auto refusal = [](const Gpt2BpeVocabulary& v) -> std::string {
    try {
      Gpt2Bpe bpe(v);
    } catch (const InputFileError& e) {
      return e.what();
    }
    return "";
  };
  Gpt2BpeVocabulary v = in_memory(tiny);
  v.merges.push_back("q@ x");
  EXPECT_EQ(refusal(v), "tokenizer.ggml.merges entry 12: the symbol \"q@\" is no token of tokenizer.ggml.tokens");
  v = in_memory(tiny);
  v.merges[1] = "x y";
  EXPECT_EQ(refusal(v), "tokenizer.ggml.merges entry 1: the merge of \"x\" and \"y\", \"xy\", is no token of "
                        "tokenizer.ggml.tokens");
  v = in_memory(tiny);
  v.merges[2] = "he";
  EXPECT_EQ(refusal(v), "tokenizer.ggml.merges entry 2: expected a merge, two symbols separated by one space, "
                        "found \"he\"");
  v = in_memory(tiny);
  v.merges.push_back(v.merges[3]);
  EXPECT_TRUE(testing::contains(refusal(v), "tokenizer.ggml.merges entry 12: repeats the merge of entry 3"))
      << refusal(v);
  v = in_memory(tiny);
  v.tokens[0] = "\xE2\x82\xAC";  // "€" for "!": no byte character, and then no token for 0x21
  EXPECT_EQ(refusal(v), "tokenizer.ggml.tokens: token \"\xE2\x82\xAC\" (id 0) has the character U+20AC, which "
                        "stands for no byte in GPT-2's byte-to-unicode mapping");
  v.literal.assign(v.tokens.size(), false);
  v.literal[0] = true;  // a special token may be any text, but the byte 0x21 then has no token
  EXPECT_TRUE(testing::contains(refusal(v), "tokenizer.ggml.tokens: no token for the byte 0x21")) << refusal(v);
}

TEST(Gpt2Bpe, RoundTripsUtf8Text) {
  Files files;
  const Gpt2Bpe bpe = files.load();
  for (const std::string text :
       {"The rain in Spain stays mainly in the plain.", "Café, naïve, Ångström, Œuvre — ça va?",
        "emoji 😀👍🏽 and 中文 and Русский", "line one\nline two\n\n\nline five\n",
        "multiple     spaces   here  ", "\ttabs\t\tand\r\nCRLF", "   leading and trailing   ", "it's they're I'll",
        "<|endoftext|>", ""}) {
    const std::vector<int64_t> ids = bpe.encode(text);
    for (int64_t id : ids) EXPECT_TRUE(bpe.has_id(id)) << id;
    EXPECT_EQ(bpe.decode(ids), text);
  }
}

TEST(Gpt2Bpe, RoundTripsArbitraryBytes) {
  Files files;
  const Gpt2Bpe bpe = files.load();
  std::mt19937 random(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bytes(random() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(random() % 256);
    EXPECT_EQ(bpe.decode_bytes(bpe.encode(bytes)), bytes) << "trial " << trial;
  }
}

TEST(Gpt2Bpe, DecodeReplacesInvalidUtf8AsPythonDoes) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_replace_invalid("a\xFF"
                                 "b"),
            "a" + fffd + "b");
  EXPECT_EQ(utf8_replace_invalid("\xE2\x82"), fffd);                    // truncated: one maximal subpart
  EXPECT_EQ(utf8_replace_invalid("\xED\xA0\x80"), fffd + fffd + fffd);  // a surrogate: three
  EXPECT_EQ(utf8_replace_invalid("\xC0\xAF"), fffd + fffd);             // overlong
  EXPECT_EQ(utf8_replace_invalid("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");
  Files files;
  const Gpt2Bpe bpe = files.load();
  // An emoji split between tokens decodes whole once both are there, and as U+FFFD before.
  const std::vector<int64_t> ids = bpe.encode("😀");
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(bpe.decode({ids[0], ids[1]}), fffd);
  EXPECT_EQ(bpe.decode(ids), "😀");
}

// The message names the file and, where it applies, where in it the problem is.
void expect_input_error(const std::string& encoder, const std::string& bpe, const std::vector<std::string>& parts) {
  Files files;
  files.write(encoder, bpe);
  try {
    files.load();
    ADD_FAILURE() << "loaded a malformed vocabulary; expected: " << parts[0];
  } catch (const InputFileError& e) {
    for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Gpt2Bpe, MalformedEncoderJsonIsAnInputFileErrorWithItsPlace) {
  const TinyGpt2Vocab v = tiny_gpt2_vocab();
  expect_input_error("{\n\"a\": 1,\n\"b\" 2}", v.vocab_bpe,
                     {"encoder.json: not valid JSON at byte offset", "(line 3)"});
  expect_input_error("[1, 2]", v.vocab_bpe, {"encoder.json: expected a JSON object", "array"});
  // Well-formed JSON that the parser refuses with out_of_range, not parse_error: it once escaped
  // as that (the gap fuzz/safetensors_fuzz.cpp found in the safetensors reader).
  expect_input_error("{\"!\": 1e400}", v.vocab_bpe, {"encoder.json: cannot be read as JSON", "1e400"});
  nlohmann::json bad_id = nlohmann::json::parse(v.encoder_json);
  bad_id["!"] = "zero";
  expect_input_error(bad_id.dump(), v.vocab_bpe, {"encoder.json: token \"!\" has the id \"zero\"", "whole number"});
  nlohmann::json twice = nlohmann::json::parse(v.encoder_json);
  twice["extra"] = 5;
  expect_input_error(twice.dump(), v.vocab_bpe, {"encoder.json: tokens", "both have the id 5"});
  nlohmann::json no_byte = nlohmann::json::parse(v.encoder_json);
  no_byte.erase("!");
  expect_input_error(no_byte.dump(), v.vocab_bpe, {"encoder.json: no token for the byte 0x21"});
  nlohmann::json not_bytes = nlohmann::json::parse(v.encoder_json);
  not_bytes["\xE2\x82\xAC"] = 999;  // "€" is no byte character
  expect_input_error(not_bytes.dump(), v.vocab_bpe, {"encoder.json: token", "U+20AC"});
}

TEST(Gpt2Bpe, AnIdNestedAMillionDeepIsAnInputFileErrorNotAStackOverflow) {
  // The message once dumped the whole id value, recursing once per level: a 2 MB encoder.json
  // crashed the reader (found with fuzz/fuzz_gpt2_vocab on a hand-made input: its own inputs, at
  // most 8 KB, nest too shallowly to reach it).
  const TinyGpt2Vocab v = tiny_gpt2_vocab();
  const size_t depth = 1'000'000;
  expect_input_error("{\"!\": " + std::string(depth, '[') + std::string(depth, ']') + "}", v.vocab_bpe,
                     {"encoder.json: token \"!\" has the id an array", "whole number"});
}

TEST(Gpt2Bpe, MalformedVocabBpeIsAnInputFileErrorWithItsLine) {
  const TinyGpt2Vocab v = tiny_gpt2_vocab();
  expect_input_error(v.encoder_json, "#version: 0.2\nh e\ni n n\n",
                     {"vocab.bpe line 3: expected a merge", "\"i n n\""});
  expect_input_error(v.encoder_json, "#version: 0.2\nhe\n", {"vocab.bpe line 2: expected a merge"});
  // Bytes that are not UTF-8 in the line quoted: shown as U+FFFD (JSON's dump() threw a
  // json::type_error for them; found by fuzz/gpt2_vocab_fuzz.cpp).
  expect_input_error(v.encoder_json, "#version: 0.2\nh\xFF e x\n",
                     {"vocab.bpe line 2: expected a merge", "\"h\xEF\xBF\xBD e x\""});
  expect_input_error(v.encoder_json, "#version: 0.2\nh e\nq@ x\n", {"vocab.bpe line 3: the symbol \"q@\" is no token"});
  expect_input_error(v.encoder_json, "#version: 0.2\nx y\n",
                     {"vocab.bpe line 2: the merge of \"x\" and \"y\", \"xy\", is no token"});
  expect_input_error(v.encoder_json, "#version: 0.2\nh e\ni n\nh e\n",
                     {"vocab.bpe line 4: repeats the merge of line 2"});
}

TEST(Gpt2Bpe, MissingFilesAreNamed) {
  TempDir dir;
  try {
    Gpt2Bpe::from_directory(dir.path());
    ADD_FAILURE() << "no files, yet loaded";
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.file("encoder.json")), std::string::npos) << e.what();
  }
  EXPECT_THROW(Gpt2Bpe::from_directory(dir.file("nowhere")), InputFileError);
}

// GPT-2's own files (the `gpt2` repository's encoder.json and vocab.bpe): the M3 Max review's prompt.
TEST(Gpt2Bpe, RealVocabularyEncodesTheRainInSpain) {
  const char* dir = std::getenv("MLSPEED_GPT2_DIR");
  if (!dir || !*dir)
    GTEST_SKIP() << "set MLSPEED_GPT2_DIR to a folder with GPT-2's encoder.json and vocab.bpe to run this test";
  const Gpt2Bpe bpe = Gpt2Bpe::from_directory(dir);
  EXPECT_EQ(bpe.vocab_size(), 50257);
  EXPECT_EQ(bpe.merges(), 50000u);
  EXPECT_EQ(bpe.encode("The rain in Spain"), (std::vector<int64_t>{464, 6290, 287, 8602}));
  EXPECT_EQ(bpe.encode("Hello world"), (std::vector<int64_t>{15496, 995}));
  EXPECT_EQ(bpe.decode({0}), "!");
  const std::string seed000 =
      "The rain in Spain has been so bad that the city of Barcelona has been forced to close its doors";
  EXPECT_EQ(bpe.decode(bpe.encode(seed000)), seed000);
}

}  // namespace
}  // namespace mlspeed::text
