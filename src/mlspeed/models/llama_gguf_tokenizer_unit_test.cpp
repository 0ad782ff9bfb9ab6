// read_gguf_tokenizer on GGUF files written here with quantize's synthetic vocabulary, and with
// byte-level ("gpt2") vocabularies (testing/tiny_llama3_vocab.h's, whose encodings are worked
// out by hand in text/byte_bpe_tokenizer_unit_test.cpp, and synthetic_llama3_vocabulary's):
// llama.cpp's defaults for every optional key, the file's flags honoured, and every missing,
// mistyped or out-of-range key refused with a message naming the file and the key.
#include "mlspeed/models/llama_gguf_tokenizer.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/io/gguf_writer.h"
#include "mlspeed/models/llama_gguf_write.h"
#include "testing/test_support.h"
#include "testing/text.h"
#include "testing/tiny_llama3_vocab.h"

namespace mlspeed::llama {
namespace {

using gguf::Value;
using GgufTokenizerKeys = std::vector<std::pair<std::string, Value>>;

// The keys quantize writes, less the optional ones each test adds: a 320-token vocabulary.
GgufTokenizerKeys tokenizer_test_keys() {
  const GgufVocabulary v = synthetic_vocabulary(320);
  return {{"general.architecture", Value::string("llama")},
          {"tokenizer.ggml.model", Value::string("llama")},
          {"tokenizer.ggml.tokens", Value::string_array(v.tokens)},
          {"tokenizer.ggml.scores", Value::array(v.scores)},
          {"tokenizer.ggml.token_type", Value::array(v.types)}};
}

GgufTokenizerKeys tokenizer_keys_with(GgufTokenizerKeys keys, const std::string& key, std::optional<Value> value) {
  for (auto it = keys.begin(); it != keys.end(); ++it)
    if (it->first == key) {
      if (value) it->second = *value;
      else keys.erase(it);
      return keys;
    }
  if (value) keys.emplace_back(key, *value);
  return keys;
}

GgufTokenizer read_tokenizer_keys(const testing::TempDir& dir, const GgufTokenizerKeys& keys) {
  gguf::Writer w;
  for (const auto& [key, value] : keys) w.set(key, value);
  const std::string path = dir.file("tokenizer.gguf");
  w.write(path);
  return read_gguf_tokenizer(gguf::File(path));
}

// The message of the InputFileError `keys` give; "" when they give none.
std::string tokenizer_refusal(const GgufTokenizerKeys& keys) {
  testing::TempDir dir;
  try {
    read_tokenizer_keys(dir, keys);
  } catch (const InputFileError& e) {
    EXPECT_TRUE(testing::contains(e.what(), dir.file("tokenizer.gguf") + ": ")) << "names the file: " << e.what();
    return e.what();
  }
  return "";
}

TEST(GgufTokenizer, ReadsTheVocabularyWithLlamaCppsDefaults) {
  testing::TempDir dir;
  const GgufTokenizer t = read_tokenizer_keys(dir, tokenizer_test_keys());
  EXPECT_EQ(t.llama->vocab_size(), 320);
  EXPECT_EQ(t.llama->special_ids().bos, 1);
  EXPECT_EQ(t.llama->special_ids().eos, 2);
  EXPECT_EQ(t.llama->special_ids().unknown, 0);
  EXPECT_EQ(t.llama->special_ids().padding, -1);
  EXPECT_TRUE(t.add_bos);
  EXPECT_FALSE(t.add_eos);
  EXPECT_TRUE(t.llama->add_space_prefix());
  EXPECT_EQ(t.end_of_generation, std::vector<int64_t>({2}));

  const std::vector<int64_t> ids = t.encode("hello world");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);  // BOS
  EXPECT_NE(ids.back(), 2);   // no EOS
  EXPECT_EQ(t.llama->decode(std::vector<int32_t>(ids.begin(), ids.end())), "hello world");
  EXPECT_TRUE(t.ends_generation(2));
  EXPECT_FALSE(t.ends_generation(1));
}

TEST(GgufTokenizer, HonoursTheFilesFlagsAndIds) {
  testing::TempDir dir;
  GgufTokenizerKeys keys = tokenizer_test_keys();
  keys = tokenizer_keys_with(keys, "tokenizer.ggml.add_bos_token", Value::boolean(false));
  keys = tokenizer_keys_with(keys, "tokenizer.ggml.add_eos_token", Value::boolean(true));
  keys = tokenizer_keys_with(keys, "tokenizer.ggml.add_space_prefix", Value::boolean(false));
  keys = tokenizer_keys_with(keys, "tokenizer.ggml.eot_token_id", Value::u32(300));
  keys = tokenizer_keys_with(keys, "tokenizer.ggml.padding_token_id", Value::u32(320));  // outside: none
  const GgufTokenizer t = read_tokenizer_keys(dir, keys);
  EXPECT_FALSE(t.llama->add_space_prefix());
  EXPECT_EQ(t.llama->special_ids().padding, -1);
  EXPECT_EQ(t.end_of_generation, std::vector<int64_t>({2, 300}));
  const std::vector<int64_t> ids = t.encode("hello");
  EXPECT_NE(ids.front(), 1);
  EXPECT_EQ(ids.back(), 2);
  // Without the space prefix "hello" does not start with the "▁h" piece the prefixed text does.
  const GgufTokenizer prefixed = read_tokenizer_keys(dir, tokenizer_test_keys());
  EXPECT_NE(prefixed.encode("hello")[1], ids[0]);

  keys = tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.bos_token_id", Value::u32(2));
  keys = tokenizer_keys_with(keys, "tokenizer.ggml.eos_token_id", Value::u32(1));
  const GgufTokenizer swapped = read_tokenizer_keys(dir, keys);
  EXPECT_EQ(swapped.encode("hi").front(), 2);
  EXPECT_EQ(swapped.end_of_generation, std::vector<int64_t>({1}));
}

TEST(GgufTokenizer, EachMissingRequiredKeyIsNamed) {
  for (const char* key : {"tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
                          "tokenizer.ggml.token_type"}) {
    const std::string message = tokenizer_refusal(tokenizer_keys_with(tokenizer_test_keys(), key, std::nullopt));
    EXPECT_TRUE(testing::contains(message, std::string("has no metadata '") + key + "'")) << key << ": " << message;
  }
}

TEST(GgufTokenizer, EachMistypedKeyIsNamed) {
  const std::vector<std::pair<std::string, Value>> cases = {
      {"tokenizer.ggml.model", Value::u32(1)},
      {"tokenizer.ggml.tokens", Value::array(std::vector<float>{1, 2})},
      {"tokenizer.ggml.scores", Value::string_array({"a"})},
      {"tokenizer.ggml.token_type", Value::string("normal")},
      {"tokenizer.ggml.bos_token_id", Value::string("<s>")},
      {"tokenizer.ggml.eos_token_id", Value::f32(2)},
      {"tokenizer.ggml.unknown_token_id", Value::i32(-1)},
      {"tokenizer.ggml.padding_token_id", Value::boolean(true)},
      {"tokenizer.ggml.eot_token_id", Value::string("<eot>")},
      {"tokenizer.ggml.add_bos_token", Value::u32(1)},
      {"tokenizer.ggml.add_eos_token", Value::string("false")},
      {"tokenizer.ggml.add_space_prefix", Value::u8(0)},
  };
  for (const auto& [key, value] : cases) {
    const std::string message = tokenizer_refusal(tokenizer_keys_with(tokenizer_test_keys(), key, value));
    EXPECT_TRUE(testing::contains(message, "metadata '" + key + "' at byte ")) << key << ": " << message;
  }
}

TEST(GgufTokenizer, ValuesItCannotUseAreRefusedByKey) {
  const GgufVocabulary v = synthetic_vocabulary(320);
  std::vector<int32_t> bad_types = v.types;
  bad_types[300] = 9;
  const std::vector<std::pair<GgufTokenizerKeys, std::string>> cases = {
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.model", Value::string("bert")),
       "tokenizer.ggml.model is 'bert'; mlspeed reads 'llama' (SentencePiece: Llama 2, TinyLlama, Mistral) and "
       "'gpt2' (byte-level BPE: Llama 3)"},
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.bos_token_id", Value::u32(320)),
       "tokenizer.ggml.bos_token_id is 320; expected an id from 0 to 319"},
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.eos_token_id", Value::u64(1ull << 40)),
       "tokenizer.ggml.eos_token_id is 1099511627776; token ids are below 2^31"},
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.eot_token_id", Value::u32(320)),
       "tokenizer.ggml.eot_token_id is 320; expected an id from 0 to 319"},
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.token_type", Value::array(bad_types)),
       "tokenizer.ggml.token_type: entry 300 is 9; expected 1 to 6"},
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.scores", Value::array(std::vector<float>{0, 1})),
       "tokenizer.ggml.scores has 2 entries but tokenizer.ggml.tokens has 320"},
  };
  for (const auto& [keys, expected] : cases) {
    const std::string message = tokenizer_refusal(keys);
    EXPECT_TRUE(testing::contains(message, expected)) << message;
  }
}

// The keys of a Llama 3 GGUF file's vocabulary, less the optional ones each test adds.
GgufTokenizerKeys gpt2_test_keys(const GgufVocabulary& v) {
  return {{"general.architecture", Value::string("llama")},
          {"tokenizer.ggml.model", Value::string("gpt2")},
          {"tokenizer.ggml.pre", Value::string(v.pre)},
          {"tokenizer.ggml.tokens", Value::string_array(v.tokens)},
          {"tokenizer.ggml.token_type", Value::array(v.types)},
          {"tokenizer.ggml.merges", Value::string_array(v.merges)},
          {"tokenizer.ggml.bos_token_id", Value::u32(uint32_t(v.bos))},
          {"tokenizer.ggml.eos_token_id", Value::u32(uint32_t(v.eos))}};
}

TEST(GgufTokenizer, ReadsALlama3VocabularyAsLlamaCppDoes) {
  testing::TempDir dir;
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const GgufTokenizer t = read_tokenizer_keys(dir, gpt2_test_keys(hand.gguf()));
  ASSERT_TRUE(t.gpt2.has_value());
  EXPECT_FALSE(t.llama.has_value());
  EXPECT_EQ(t.vocab_size(), int64_t(hand.tokens.size()));
  EXPECT_EQ(t.gpt2->pre_tokenizer(), text::BpePreTokenizer::llama3);
  // llama-bpe: BOS added unless the file says otherwise; EOS, and <|eot_id|> found by its text,
  // end a generation.
  EXPECT_TRUE(t.add_bos);
  EXPECT_FALSE(t.add_eos);
  EXPECT_EQ(t.end_of_generation, (std::vector<int64_t>{hand.id("<|end_of_text|>"), hand.id("<|eot_id|>")}));
  EXPECT_TRUE(t.ends_generation(hand.id("<|eot_id|>")));
  EXPECT_FALSE(t.ends_generation(hand.id("<|begin_of_text|>")));
  EXPECT_EQ(t.chat_template, ChatTemplate::llama3);
  // "I'm they'll": BOS, "I", "'m", " they", "'ll" (see text/byte_bpe_tokenizer_unit_test.cpp).
  const std::vector<int64_t> ids = {hand.id("<|begin_of_text|>"), hand.id("I"), hand.id("'m"), hand.id(" they"),
                                    hand.id("'ll")};
  EXPECT_EQ(t.encode("I'm they'll"), ids);
  EXPECT_EQ(t.decode(ids), "<|begin_of_text|>I'm they'll");
  // A prompt typed with a special token in it is text, as llama.cpp tokenises a prompt here.
  EXPECT_EQ(t.encode("<|eot_id|>").size(), 1 + std::string("<|eot_id|>").size());
  // --chat: Llama 3's template.
  EXPECT_EQ(t.encode_chat("", "hi"), text::llama3_chat_prompt(*t.gpt2, "", "hi"));
  EXPECT_EQ(t.encode_chat("", "hi").front(), hand.id("<|begin_of_text|>"));
}

TEST(GgufTokenizer, AGpt2VocabularyTakesTheFilesFlagsAndLlamaCppsDefaults) {
  testing::TempDir dir;
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const GgufTokenizerKeys keys = gpt2_test_keys(hand.gguf());
  // GPT-2's pre-tokenizer: no BOS unless the file asks; "12345" is one pre-token (12, 34, 5).
  for (const char* pre : {"gpt2", "default", "gpt-2"}) {
    const GgufTokenizer gpt2 =
        read_tokenizer_keys(dir, tokenizer_keys_with(keys, "tokenizer.ggml.pre", Value::string(pre)));
    EXPECT_EQ(gpt2.gpt2->pre_tokenizer(), text::BpePreTokenizer::gpt2) << pre;
    EXPECT_FALSE(gpt2.add_bos) << pre;
    EXPECT_EQ(gpt2.encode("12345"), (std::vector<int64_t>{hand.id("12"), hand.id("34"), hand.id("5")})) << pre;
  }
  // No pre-tokenizer named: llama.cpp's "default".
  const GgufTokenizer unnamed = read_tokenizer_keys(dir, tokenizer_keys_with(keys, "tokenizer.ggml.pre", std::nullopt));
  EXPECT_EQ(unnamed.gpt2->pre_tokenizer(), text::BpePreTokenizer::gpt2);
  for (const char* pre : {"llama3", "llama-v3"})
    EXPECT_EQ(read_tokenizer_keys(dir, tokenizer_keys_with(keys, "tokenizer.ggml.pre", Value::string(pre)))
                  .gpt2->pre_tokenizer(),
              text::BpePreTokenizer::llama3);
  // The file's flags and EOT win; without the BOS and EOS keys, llama.cpp's 11 for both.
  GgufTokenizerKeys flagged = tokenizer_keys_with(keys, "tokenizer.ggml.add_bos_token", Value::boolean(false));
  flagged = tokenizer_keys_with(flagged, "tokenizer.ggml.add_eos_token", Value::boolean(true));
  flagged = tokenizer_keys_with(flagged, "tokenizer.ggml.eot_token_id", Value::u32(7));
  flagged = tokenizer_keys_with(flagged, "tokenizer.ggml.bos_token_id", std::nullopt);
  flagged = tokenizer_keys_with(flagged, "tokenizer.ggml.eos_token_id", std::nullopt);
  const GgufTokenizer t = read_tokenizer_keys(dir, flagged);
  EXPECT_EQ(t.encode("hi"), (std::vector<int64_t>{hand.id("h"), hand.id("i"), 11}));
  // EOS is 11 now, so <|end_of_text|> ends a generation by its text, as llama.cpp's list has it.
  EXPECT_EQ(t.end_of_generation,
            (std::vector<int64_t>{11, hand.id("<|eot_id|>"), hand.id("<|end_of_text|>"), 7}));
}

// Without Llama 3's header tokens a byte-level vocabulary gets the Llama-2-chat template.
TEST(GgufTokenizer, AGpt2VocabularyWithoutLlama3sTokensChatsAsLlama2) {
  testing::TempDir dir;
  testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  hand.tokens[size_t(hand.id("<|start_header_id|>"))] = "<|header|>";
  const GgufTokenizer t = read_tokenizer_keys(dir, gpt2_test_keys(hand.gguf()));
  EXPECT_EQ(t.chat_template, ChatTemplate::llama2);
  EXPECT_EQ(t.encode_chat("", "hi"), t.encode("[INST] hi [/INST]"));
}

TEST(GgufTokenizer, SyntheticLlama3VocabularyIsAReadableLlama3Vocabulary) {
  testing::TempDir dir;
  const GgufVocabulary v = synthetic_llama3_vocabulary(320);
  ASSERT_EQ(v.tokens.size(), 320u);
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "llama-bpe");
  EXPECT_EQ(v.tokens[0], "!");
  EXPECT_EQ(v.tokens[220], testing::gpt2_space());
  EXPECT_EQ(v.merges.size(), 320u - 256 - 5);
  EXPECT_EQ(v.merges[0], testing::gpt2_space() + " a");  // " a" first, then " b", ...
  EXPECT_EQ(v.tokens[size_t(v.bos)], "<|begin_of_text|>");
  EXPECT_EQ(v.tokens[size_t(v.eos)], "<|end_of_text|>");
  const GgufTokenizer t = read_tokenizer_keys(dir, gpt2_test_keys(v));
  EXPECT_EQ(t.chat_template, ChatTemplate::llama3);
  EXPECT_EQ(t.encode(" a"), (std::vector<int64_t>{v.bos, 256}));
  for (const std::string text : {"hello world", "What is 12345?\n\n  Caf\xC3\xA9 \xF0\x9F\x98\x80"})
    EXPECT_EQ(t.decode(t.encode(text)), "<|begin_of_text|>" + text);
}

TEST(GgufTokenizer, AGpt2VocabularyItCannotUseIsRefusedByKey) {
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const GgufTokenizerKeys keys = gpt2_test_keys(hand.gguf());
  std::vector<std::string> unknown_symbol = hand.merges;
  unknown_symbol[3] = "t q@";
  const std::vector<std::pair<GgufTokenizerKeys, std::string>> cases = {
      {tokenizer_keys_with(keys, "tokenizer.ggml.pre", Value::string("qwen2")),
       "tokenizer.ggml.pre is 'qwen2', a pre-tokenizer mlspeed does not have; it has 'llama-bpe' (Llama 3's pattern, "
       "also named 'llama3' and 'llama-v3') and 'default', 'gpt2', 'gpt-2' (GPT-2's pattern)"},
      {tokenizer_keys_with(keys, "tokenizer.ggml.merges", std::nullopt),
       "has no metadata 'tokenizer.ggml.merges', which a 'gpt2' (byte-level BPE) vocabulary needs"},
      {tokenizer_keys_with(keys, "tokenizer.ggml.merges", Value::string_array(unknown_symbol)),
       "tokenizer.ggml.merges entry 3: the symbol \"q@\" is no token of tokenizer.ggml.tokens"},
      {tokenizer_keys_with(keys, "tokenizer.ggml.merges", Value::array(std::vector<int32_t>{1, 2})),
       "metadata 'tokenizer.ggml.merges' at byte "},
      {tokenizer_keys_with(keys, "tokenizer.ggml.token_type", std::nullopt),
       "has no metadata 'tokenizer.ggml.token_type'"},
      {tokenizer_keys_with(keys, "tokenizer.ggml.eos_token_id", Value::u32(uint32_t(hand.tokens.size()))),
       "tokenizer.ggml.eos_token_id is " + std::to_string(hand.tokens.size()) + "; expected an id from 0 to "},
  };
  for (const auto& [keys_of_case, expected] : cases) {
    const std::string message = tokenizer_refusal(keys_of_case);
    EXPECT_TRUE(testing::contains(message, expected)) << message;
  }
}

}  // namespace
}  // namespace mlspeed::llama
