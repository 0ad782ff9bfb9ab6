// read_gguf_tokenizer on GGUF files written here with quantize's synthetic vocabulary: llama.cpp's
// defaults for every optional key, the file's flags honoured, and every missing, mistyped or
// out-of-range key refused with a message naming the file and the key.
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
  EXPECT_EQ(t.tokenizer.vocab_size(), 320);
  EXPECT_EQ(t.tokenizer.special_ids().bos, 1);
  EXPECT_EQ(t.tokenizer.special_ids().eos, 2);
  EXPECT_EQ(t.tokenizer.special_ids().unknown, 0);
  EXPECT_EQ(t.tokenizer.special_ids().padding, -1);
  EXPECT_TRUE(t.add_bos);
  EXPECT_FALSE(t.add_eos);
  EXPECT_TRUE(t.tokenizer.add_space_prefix());
  EXPECT_EQ(t.end_of_generation, std::vector<int64_t>({2}));

  const std::vector<int64_t> ids = t.encode("hello world");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 1);  // BOS
  EXPECT_NE(ids.back(), 2);   // no EOS
  EXPECT_EQ(t.tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end())), "hello world");
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
  EXPECT_FALSE(t.tokenizer.add_space_prefix());
  EXPECT_EQ(t.tokenizer.special_ids().padding, -1);
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
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.model", Value::string("gpt2")),
       "tokenizer.ggml.model is 'gpt2' (a byte-level BPE vocabulary, as Llama 3's): not supported yet"},
      {tokenizer_keys_with(tokenizer_test_keys(), "tokenizer.ggml.model", Value::string("bert")),
       "tokenizer.ggml.model is 'bert'; mlspeed reads 'llama'"},
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

}  // namespace
}  // namespace mlspeed::llama
