#include "mlspeed/models/llama_gguf_tokenizer.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"

namespace mlspeed::llama {
namespace {

[[noreturn]] void bad_tokenizer(const gguf::File& file, const std::string& what) {
  throw InputFileError(file.path() + ": " + what);
}

// "llama" or "gpt2": SentencePiece's BPE or the byte-level one.
std::string tokenizer_model(const gguf::File& file) {
  const std::string model = file.get_string("tokenizer.ggml.model");
  if (model != "llama" && model != "gpt2")
    bad_tokenizer(file, "tokenizer.ggml.model is '" + excerpt(model) +
                            "'; mlspeed reads 'llama' (SentencePiece: Llama 2, TinyLlama, Mistral) and 'gpt2' "
                            "(byte-level BPE: Llama 3)");
  return model;
}

// An id key as int32, `fallback` when absent; empty when absent without a fallback.
std::optional<int32_t> id_key(const gguf::File& file, const std::string& key, std::optional<int32_t> fallback) {
  const std::optional<uint64_t> value = file.find_uint(key);
  if (!value) return fallback;
  if (*value > uint64_t(std::numeric_limits<int32_t>::max()))
    bad_tokenizer(file, key + " is " + std::to_string(*value) + "; token ids are below 2^31");
  return static_cast<int32_t>(*value);
}

std::vector<int32_t> token_types(const gguf::File& file) {
  const std::vector<int64_t> raw = file.get_int_array("tokenizer.ggml.token_type");
  std::vector<int32_t> types;
  types.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] < 1 || raw[i] > 6)  // LlamaTokenizer names the type too, but only once it fits an int32
      bad_tokenizer(file, "tokenizer.ggml.token_type: entry " + std::to_string(i) + " is " + std::to_string(raw[i]) +
                              "; expected 1 to 6 (normal, unknown, control, user-defined, unused, byte)");
    types.push_back(static_cast<int32_t>(raw[i]));
  }
  return types;
}

text::LlamaTokenizer sentencepiece_tokenizer_of(const gguf::File& file) {
  std::vector<std::string> tokens = file.get_string_array("tokenizer.ggml.tokens");
  std::vector<float> scores = file.get_float_array("tokenizer.ggml.scores");
  std::vector<int32_t> types = token_types(file);
  text::LlamaSpecialIds ids;
  ids.bos = *id_key(file, "tokenizer.ggml.bos_token_id", ids.bos);
  ids.eos = *id_key(file, "tokenizer.ggml.eos_token_id", ids.eos);
  ids.unknown = *id_key(file, "tokenizer.ggml.unknown_token_id", ids.unknown);
  const std::optional<int32_t> padding = id_key(file, "tokenizer.ggml.padding_token_id", std::nullopt);
  if (padding && size_t(*padding) < tokens.size()) ids.padding = *padding;
  const bool space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  try {
    return text::LlamaTokenizer(std::move(tokens), std::move(scores), std::move(types), ids, space_prefix);
  } catch (const InputFileError& e) {  // its messages name the key, not the file
    bad_tokenizer(file, e.what());
  }
}

// tokenizer.ggml.pre, by the names llama.cpp gives the two patterns mlspeed has; as llama.cpp,
// Llama 3's takes a pre-token that is a token whole and adds BOS unless the file says otherwise.
text::ByteBpeTokenizer::Options pre_tokenizer_of(const gguf::File& file) {
  const std::string pre = file.find_string("tokenizer.ggml.pre").value_or("default");
  text::ByteBpeTokenizer::Options o;
  if (pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3") {
    o.pre = text::BpePreTokenizer::llama3;
    o.ignore_merges = true;
  } else if (pre != "default" && pre != "gpt2" && pre != "gpt-2") {
    bad_tokenizer(file, "tokenizer.ggml.pre is '" + excerpt(pre) +
                            "', a pre-tokenizer mlspeed does not have; it has 'llama-bpe' (Llama 3's pattern, also "
                            "named 'llama3' and 'llama-v3') and 'default', 'gpt2', 'gpt-2' (GPT-2's pattern)");
  }
  return o;
}

text::ByteBpeTokenizer byte_level_tokenizer_of(const gguf::File& file) {
  std::vector<std::string> tokens = file.get_string_array("tokenizer.ggml.tokens");
  std::vector<int32_t> types = token_types(file);
  std::optional<std::vector<std::string>> merges = file.find_string_array("tokenizer.ggml.merges");
  if (!merges)
    bad_tokenizer(file, "has no metadata 'tokenizer.ggml.merges', which a 'gpt2' (byte-level BPE) vocabulary "
                        "needs: its merge rules, as llama.cpp requires them");
  text::ByteBpeTokenizer::Options options = pre_tokenizer_of(file);
  options.bos = *id_key(file, "tokenizer.ggml.bos_token_id", options.bos);
  options.eos = *id_key(file, "tokenizer.ggml.eos_token_id", options.eos);
  try {
    return text::ByteBpeTokenizer(std::move(tokens), std::move(types), std::move(*merges), options);
  } catch (const InputFileError& e) {  // its messages name the key, not the file
    bad_tokenizer(file, e.what());
  }
}

}  // namespace

std::vector<int64_t> GgufTokenizer::encode(std::string_view text) const {
  if (gpt2) return gpt2->encode(text, add_bos, add_eos);
  const std::vector<int32_t> ids = llama->encode(text, add_bos, add_eos);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

std::vector<int64_t> GgufTokenizer::encode_chat(std::string_view system, std::string_view user) const {
  if (chat_template == ChatTemplate::llama3) return text::llama3_chat_prompt(*gpt2, system, user);
  return encode(text::llama2_chat_prompt(system, user));
}

std::string GgufTokenizer::decode(const std::vector<int64_t>& ids) const {
  if (gpt2) return gpt2->decode(ids);
  for (int64_t id : ids)
    if (id < 0 || id >= vocab_size()) throw std::out_of_range("token id " + std::to_string(id) + " is no token");
  return llama->decode(std::vector<int32_t>(ids.begin(), ids.end()));
}

int64_t GgufTokenizer::vocab_size() const { return gpt2 ? gpt2->vocab_size() : llama->vocab_size(); }

bool GgufTokenizer::ends_generation(int64_t id) const {
  return std::find(end_of_generation.begin(), end_of_generation.end(), id) != end_of_generation.end();
}

GgufTokenizer read_gguf_tokenizer(const gguf::File& file) {
  GgufTokenizer t;
  if (tokenizer_model(file) == "llama") {
    t.llama.emplace(sentencepiece_tokenizer_of(file));
    t.end_of_generation.push_back(t.llama->special_ids().eos);
  } else {
    t.gpt2.emplace(byte_level_tokenizer_of(file));
    t.add_bos = t.gpt2->pre_tokenizer() == text::BpePreTokenizer::llama3;
    t.end_of_generation.push_back(t.gpt2->eos());
    // llama.cpp's end-of-generation tokens by their text, those of Llama 3 (3.1's <|eom_id|>).
    for (const char* text : {"<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"}) {
      const int64_t id = t.gpt2->id(text);
      if (id >= 0 && !t.ends_generation(id)) t.end_of_generation.push_back(id);
    }
    if (text::has_llama3_chat_tokens(*t.gpt2)) t.chat_template = ChatTemplate::llama3;
  }
  t.add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(t.add_bos);
  t.add_eos = file.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  if (const std::optional<int32_t> eot = id_key(file, "tokenizer.ggml.eot_token_id", std::nullopt)) {
    if (*eot >= t.vocab_size())
      bad_tokenizer(file, "tokenizer.ggml.eot_token_id is " + std::to_string(*eot) + "; expected an id from 0 to " +
                              std::to_string(t.vocab_size() - 1));
    if (!t.ends_generation(*eot)) t.end_of_generation.push_back(*eot);
  }
  return t;
}

}  // namespace mlspeed::llama
