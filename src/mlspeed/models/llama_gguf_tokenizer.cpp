#include "mlspeed/models/llama_gguf_tokenizer.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"

namespace mlspeed::llama {
namespace {

[[noreturn]] void bad_tokenizer(const gguf::File& file, const std::string& what) {
  throw InputFileError(file.path() + ": " + what);
}

// The tokenizer model must be SentencePiece's; Llama 3's byte-level BPE is named apart because it
// is the one a Llama-family file most often has.
void check_tokenizer_model(const gguf::File& file) {
  const std::string model = file.get_string("tokenizer.ggml.model");
  if (model == "llama") return;
  if (model == "gpt2")
    bad_tokenizer(file, "tokenizer.ggml.model is 'gpt2' (a byte-level BPE vocabulary, as Llama 3's): not supported "
                        "yet; mlspeed reads 'llama' (SentencePiece: Llama 2, TinyLlama, Mistral)");
  bad_tokenizer(file, "tokenizer.ggml.model is '" + excerpt(model) +
                          "'; mlspeed reads 'llama' (SentencePiece: Llama 2, TinyLlama, Mistral)");
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

text::LlamaTokenizer tokenizer_of(const gguf::File& file) {
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

}  // namespace

std::vector<int64_t> GgufTokenizer::encode(std::string_view text) const {
  const std::vector<int32_t> ids = tokenizer.encode(text, add_bos, add_eos);
  return std::vector<int64_t>(ids.begin(), ids.end());
}

bool GgufTokenizer::ends_generation(int64_t id) const {
  return std::find(end_of_generation.begin(), end_of_generation.end(), id) != end_of_generation.end();
}

GgufTokenizer read_gguf_tokenizer(const gguf::File& file) {
  check_tokenizer_model(file);
  GgufTokenizer t{tokenizer_of(file), true, false, {}};
  t.add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(true);
  t.add_eos = file.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  t.end_of_generation.push_back(t.tokenizer.special_ids().eos);
  if (const std::optional<int32_t> eot = id_key(file, "tokenizer.ggml.eot_token_id", std::nullopt)) {
    if (*eot >= t.tokenizer.vocab_size())
      bad_tokenizer(file, "tokenizer.ggml.eot_token_id is " + std::to_string(*eot) + "; expected an id from 0 to " +
                              std::to_string(t.tokenizer.vocab_size() - 1));
    if (!t.ends_generation(*eot)) t.end_of_generation.push_back(*eot);
  }
  return t;
}

}  // namespace mlspeed::llama
