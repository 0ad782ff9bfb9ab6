#include "mlspeed/text/byte_bpe_tokenizer.h"

#include <algorithm>
#include <utility>

#include "mlspeed/core/errors.h"

namespace mlspeed::text {
namespace {

bool is_special_type(LlamaTokenType t) {
  return t == LlamaTokenType::control || t == LlamaTokenType::user_defined || t == LlamaTokenType::unknown;
}

std::vector<std::string> non_empty_tokens(std::vector<std::string> tokens) {
  if (tokens.empty()) throw InputFileError("tokenizer.ggml.tokens is empty");
  return tokens;
}

std::vector<LlamaTokenType> checked_token_types(const std::vector<int32_t>& types, size_t tokens) {
  if (types.size() != tokens)
    throw InputFileError("tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                         " entries but tokenizer.ggml.tokens has " + std::to_string(tokens));
  std::vector<LlamaTokenType> out;
  out.reserve(types.size());
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i] < 1 || types[i] > 6)
      throw InputFileError("tokenizer.ggml.token_type: entry " + std::to_string(i) + " is " +
                           std::to_string(types[i]) +
                           "; expected 1 to 6 (normal, unknown, control, user-defined, unused, byte)");
    out.push_back(static_cast<LlamaTokenType>(types[i]));
  }
  return out;
}

Gpt2BpeVocabulary bpe_vocabulary(const std::vector<std::string>& tokens, const std::vector<LlamaTokenType>& types,
                                 std::vector<std::string> merges, const ByteBpeTokenizer::Options& o) {
  Gpt2BpeVocabulary v;
  v.tokens = tokens;
  v.literal.reserve(types.size());
  for (LlamaTokenType t : types) v.literal.push_back(is_special_type(t));
  v.merges = std::move(merges);
  v.pre = o.pre;
  v.ignore_merges = o.ignore_merges;
  v.tokens_name = "tokenizer.ggml.tokens";
  v.merges_name = "tokenizer.ggml.merges";
  return v;
}

int64_t checked_special_id(const char* key, int32_t id, size_t tokens) {
  if (id < 0 || size_t(id) >= tokens)
    throw InputFileError(std::string(key) + " is " + std::to_string(id) + "; expected an id from 0 to " +
                         std::to_string(tokens - 1));
  return id;
}

// A stretch of the text being tokenised: a special token's id, or text still to be encoded.
struct TextPart {
  int64_t special;  // -1: text
  size_t begin, length;
};

}  // namespace

ByteBpeTokenizer::ByteBpeTokenizer(std::vector<std::string> tokens, std::vector<int32_t> types,
                                   std::vector<std::string> merges, Options options)
    : tokens_(non_empty_tokens(std::move(tokens))),
      types_(checked_token_types(types, tokens_.size())),
      bpe_(bpe_vocabulary(tokens_, types_, std::move(merges), options)),
      bos_(checked_special_id("tokenizer.ggml.bos_token_id", options.bos, tokens_.size())),
      eos_(checked_special_id("tokenizer.ggml.eos_token_id", options.eos, tokens_.size())) {
  ids_.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    ids_.emplace(tokens_[id], static_cast<int64_t>(id));
    // An empty special token would be found everywhere; llama.cpp renames empty tokens.
    if (is_special_type(types_[id]) && !tokens_[id].empty() && ids_.at(tokens_[id]) == int64_t(id))
      specials_.push_back({tokens_[id], int64_t(id), types_[id] == LlamaTokenType::user_defined});
  }
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
}

int64_t ByteBpeTokenizer::id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<int64_t> ByteBpeTokenizer::encode(std::string_view text, bool add_bos, bool add_eos,
                                              bool parse_special) const {
  std::vector<TextPart> parts = {{-1, 0, text.size()}};
  for (const Special& s : specials_) {
    if (!s.always && !parse_special) continue;
    std::vector<TextPart> split;
    for (const TextPart& part : parts) {
      if (part.special >= 0) {
        split.push_back(part);
        continue;
      }
      const std::string_view stretch = text.substr(part.begin, part.length);
      size_t at = 0;
      for (size_t found; (found = stretch.find(s.text, at)) != std::string_view::npos; at = found + s.text.size()) {
        if (found > at) split.push_back({-1, part.begin + at, found - at});
        split.push_back({s.id, part.begin + found, s.text.size()});
      }
      if (at < stretch.size()) split.push_back({-1, part.begin + at, stretch.size() - at});
    }
    parts = std::move(split);
  }
  std::vector<int64_t> ids;
  if (add_bos) ids.push_back(bos_);
  for (const TextPart& part : parts) {
    if (part.special >= 0) {
      ids.push_back(part.special);
      continue;
    }
    const std::vector<int64_t> piece = bpe_.encode(text.substr(part.begin, part.length));
    ids.insert(ids.end(), piece.begin(), piece.end());
  }
  if (add_eos) ids.push_back(eos_);
  return ids;
}

std::string ByteBpeTokenizer::decode_bytes(const std::vector<int64_t>& ids) const { return bpe_.decode_bytes(ids); }

std::string ByteBpeTokenizer::decode(const std::vector<int64_t>& ids) const { return bpe_.decode(ids); }

bool has_llama3_chat_tokens(const ByteBpeTokenizer& t) {
  for (const char* token : {"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"})
    if (t.id(token) < 0) return false;
  return true;
}

std::vector<int64_t> llama3_chat_prompt(const ByteBpeTokenizer& t, std::string_view system, std::string_view user) {
  const int64_t start_header = t.id("<|start_header_id|>"), end_header = t.id("<|end_header_id|>"),
                end_of_turn = t.id("<|eot_id|>");
  std::vector<int64_t> ids = {t.id("<|begin_of_text|>")};
  const auto text = [&](std::string_view s) {
    const std::vector<int64_t> piece = t.encode(s, /*add_bos=*/false);
    ids.insert(ids.end(), piece.begin(), piece.end());
  };
  // "\n\n" and the content are one stretch of text between two special tokens, encoded as one.
  const auto header = [&](std::string_view role, std::string_view content) {
    ids.push_back(start_header);
    text(role);
    ids.push_back(end_header);
    text("\n\n" + std::string(content));
  };
  if (!system.empty()) {
    header("system", system);
    ids.push_back(end_of_turn);
  }
  header("user", user);
  ids.push_back(end_of_turn);
  header("assistant", "");
  return ids;
}

}  // namespace mlspeed::text
