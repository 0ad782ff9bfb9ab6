#include "mlspeed/models/llama_hf_vocabulary.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/json_input.h"
#include "mlspeed/core/text.h"

namespace mlspeed::llama {
namespace {

using nlohmann::json;

// llama_token_type (text/llama_tokenizer.h's LlamaTokenType), as tokenizer.ggml.token_type holds it.
constexpr int32_t kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;
constexpr float kHfScore = -1000.0f;  // LlamaHfVocab's score of every token

// A piece or token quoted in a message, as JSON writes it.
std::string json_quoted(const std::string& text) { return json_excerpt(json(text)); }

bool is_byte_token(const std::string& t) {
  const auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); };
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && hex(t[3]) && hex(t[4]) && t[5] == '>';
}

// A pre-tokenizer or decoder that is ByteLevel, or a Sequence holding one.
bool byte_level(const json& step) {
  if (!step.is_object()) return false;
  if (step.value("type", json()) == "ByteLevel") return true;
  for (const char* list : {"pretokenizers", "decoders"}) {
    const auto it = step.find(list);
    if (it != step.end() && it->is_array())
      for (const json& inner : *it)
        if (byte_level(inner)) return true;
  }
  return false;
}

struct AddedToken {
  std::string content;
  bool special = false;
};

// tokenizer.json read: the pieces by id and what the added tokens say.
struct HfTokens {
  std::vector<std::string> tokens;      // model.vocab, then the added tokens past it
  std::map<std::string, int64_t> vocab;  // model.vocab's ids by piece
  std::map<std::string, int64_t> added;  // the added tokens' ids by content (the first of each)
  std::set<int64_t> special;             // ids of added tokens marked "special"
  std::set<int64_t> user_defined;        // ids of the other added tokens past model.vocab
  std::optional<std::string> unk_token;  // model.unk_token
  std::map<int64_t, float> merged_scores;  // the pieces model.merges makes: minus the first merge's rank
};

[[noreturn]] void bad_tokenizer_json(const std::string& path, const std::string& what) {
  throw InputFileError(path + ": " + what);
}

// tokenizer.json's "model", if it is Llama 2's SentencePiece-style BPE (byte fallback, no
// byte-level pre-tokenizer); one line naming what it is otherwise.
const json& spm_bpe_model(const json& tokenizer, const std::string& path) {
  const auto model = tokenizer.find("model");
  if (model == tokenizer.end() || !model->is_object()) bad_tokenizer_json(path, "\"model\" is missing or not an object");
  const json type = model->value("type", json());
  const auto pre = tokenizer.find("pre_tokenizer"), decoder = tokenizer.find("decoder");
  if (type == "BPE" && ((pre != tokenizer.end() && byte_level(*pre)) || (decoder != tokenizer.end() && byte_level(*decoder))))
    bad_tokenizer_json(path, "a byte-level BPE vocabulary (a ByteLevel pre-tokenizer: Llama 3's); quantize does not read "
                        "Llama 3 vocabularies yet, only Llama 2's SentencePiece-style one (Llama 2, Mistral, TinyLlama)");
  if (type != "BPE")
    bad_tokenizer_json(path, "\"model.type\" is " + json_excerpt(type) +
                            "; quantize reads Llama's SentencePiece-style BPE vocabulary (\"BPE\" with byte_fallback: "
                            "Llama 2, Mistral, TinyLlama)");
  if (model->value("byte_fallback", json()) != true)
    bad_tokenizer_json(path, "\"model.byte_fallback\" is not true; quantize reads Llama's SentencePiece-style BPE "
                        "vocabulary, which falls back to byte tokens (Llama 2, Mistral, TinyLlama)");
  return *model;
}

// model.vocab's pieces in id order: every id from 0 once.
void read_vocab(const json& model, const std::string& path, HfTokens& t) {
  const auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object() || vocab->empty())
    bad_tokenizer_json(path, "\"model.vocab\" is missing or not an object of pieces and ids");
  const int64_t base = int64_t(vocab->size());
  std::vector<std::optional<std::string>> by_id(static_cast<size_t>(base));
  for (const auto& [piece, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= base)
      bad_tokenizer_json(path, "\"model.vocab\" gives " + json_quoted(piece) + " the id " + json_excerpt(id) + "; its " +
                              std::to_string(base) + " pieces have the ids 0 to " + std::to_string(base - 1) + ", each once");
    std::optional<std::string>& slot = by_id[static_cast<size_t>(id.get<int64_t>())];
    if (slot)
      bad_tokenizer_json(path, "\"model.vocab\" gives the id " + id.dump() + " to both " + json_quoted(*slot) + " and " +
                              json_quoted(piece));
    slot = piece;
    t.vocab.emplace(piece, id.get<int64_t>());
  }
  for (std::optional<std::string>& piece : by_id) t.tokens.push_back(std::move(*piece));
}

// "added_tokens": within model.vocab they replace the piece's text (what Hugging Face decodes it
// to); past it they must take the next ids in turn.
void read_added_tokens(const json& tokenizer, const std::string& path, HfTokens& t) {
  const int64_t base = int64_t(t.tokens.size());
  std::map<int64_t, AddedToken> past;
  const auto added = tokenizer.find("added_tokens");
  const bool has_added = added != tokenizer.end() && !added->is_null();
  if (has_added && !added->is_array()) bad_tokenizer_json(path, "\"added_tokens\" is not a list");
  static const json kNone = json::array();
  for (const json& a : has_added ? *added : kNone) {
    const json id = a.is_object() ? a.value("id", json()) : json(), content = a.is_object() ? a.value("content", json()) : json();
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || !content.is_string())
      bad_tokenizer_json(path, "\"added_tokens\" holds " + json_excerpt(a) +
                              ", not {\"id\": a whole number, \"content\": a string, ...}");
    const int64_t i = id.get<int64_t>();
    const AddedToken token{content.get<std::string>(), a.value("special", json()) == true};
    t.added.emplace(token.content, i);
    if (token.special) t.special.insert(i);
    if (i < base) t.tokens[static_cast<size_t>(i)] = token.content;
    else if (!past.emplace(i, token).second)
      bad_tokenizer_json(path, "\"added_tokens\" gives the id " + std::to_string(i) + " twice");
  }
  for (const auto& [i, token] : past) {
    if (i != int64_t(t.tokens.size()))
      bad_tokenizer_json(path, "\"added_tokens\" past model.vocab's " + std::to_string(base) +
                              " pieces must take the next ids in turn; " + json_quoted(token.content) + " has the id " +
                              std::to_string(i) + " where " + std::to_string(t.tokens.size()) + " is next");
    if (!token.special) t.user_defined.insert(i);
    t.tokens.push_back(token.content);
  }
}

// model.merges ("left right", or [left, right] in newer files), best first. Hugging Face's
// converter lists a SentencePiece BPE model's merges by the score of the piece they make, every
// split of a piece into two pieces included; so minus the rank of a piece's first merge orders
// the pieces as their scores did, and llama.cpp's SentencePiece tokenizer, which merges the pair
// making the best-scored piece, tokenises as Hugging Face does.
void read_merge_scores(const json& model, const std::string& path, HfTokens& t) {
  const auto merges = model.find("merges");
  if (merges == model.end() || merges->is_null()) return;
  if (!merges->is_array()) bad_tokenizer_json(path, "\"model.merges\" is not a list");
  int64_t rank = 0;
  for (const json& m : *merges) {
    std::string merged;
    if (m.is_string()) {
      const std::string text = m.get<std::string>();
      const size_t space = text.find(' ');
      if (space != std::string::npos) merged = text.substr(0, space) + text.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merged = m[0].get<std::string>() + m[1].get<std::string>();
    }
    if (merged.empty())
      bad_tokenizer_json(path, "\"model.merges\" holds " + json_excerpt(m) +
                                   ", not \"left right\" or [\"left\", \"right\"]");
    if (const auto id = t.vocab.find(merged); id != t.vocab.end())
      t.merged_scores.emplace(id->second, -static_cast<float>(rank));  // the first merge making it
    ++rank;
  }
}

HfTokens read_tokens(const json& tokenizer, const std::string& path) {
  const json& model = spm_bpe_model(tokenizer, path);
  HfTokens t;
  read_vocab(model, path, t);
  read_merge_scores(model, path, t);
  read_added_tokens(tokenizer, path, t);
  if (const auto unk = model.find("unk_token"); unk != model.end() && unk->is_string()) t.unk_token = unk->get<std::string>();
  return t;
}

std::optional<int64_t> id_of(const HfTokens& t, const std::string& content) {
  if (const auto it = t.added.find(content); it != t.added.end()) return it->second;
  if (const auto it = t.vocab.find(content); it != t.vocab.end()) return it->second;
  return std::nullopt;
}

// tokenizer_config.json's bos_token, eos_token and unk_token (SpecialVocab's first source).
void read_tokenizer_config(const std::string& path, const HfTokens& t, std::optional<int64_t> (&ids)[3]) {
  if (!path_exists(path)) return;
  const json config = read_checkpoint_json(path);
  const char* keys[3] = {"bos_token", "eos_token", "unk_token"};
  for (int k = 0; k < 3; ++k) {
    const json entry = config.value(keys[k], json());
    const json content = entry.is_object() ? entry.value("content", json()) : entry;
    if (!content.is_string()) continue;  // null: none named (SpecialVocab skips any other value too)
    ids[k] = id_of(t, content.get<std::string>());
    if (!ids[k])
      throw InputFileError(path + ": \"" + keys[k] + "\" is " + json_excerpt(content) +
                           ", a token tokenizer.json does not have");
  }
}

}  // namespace

GgufVocabulary read_hf_vocabulary(const HfCheckpoint& checkpoint) {
  const std::string path = checkpoint.file("tokenizer.json");
  const json tokenizer = read_checkpoint_json(
      path, "quantize takes the vocabulary from the checkpoint's tokenizer.json (Hugging Face tokenizers' file; "
            "tokenizer.model alone is not read)");
  HfTokens t = read_tokens(tokenizer, path);
  const int64_t size = checkpoint.config.vocab_size, real = int64_t(t.tokens.size());
  if (real > size)
    throw InputFileError(path + ": has " + std::to_string(real) + " tokens, but " + checkpoint.file("config.json") +
                         "'s \"vocab_size\" (the embedding's rows) is " + std::to_string(size));

  // BOS, EOS, unknown: tokenizer_config.json, config.json, tokenizer.json, the usual pieces, llama.cpp's defaults.
  std::optional<int64_t> ids[3];
  read_tokenizer_config(checkpoint.file("tokenizer_config.json"), t, ids);
  const std::optional<int64_t> from_config[3] = {checkpoint.bos_token_id, checkpoint.eos_token_id, std::nullopt};
  const std::optional<std::string> named[3] = {std::nullopt, std::nullopt, t.unk_token};
  const char* usual[3] = {"<s>", "</s>", "<unk>"};
  const int64_t fallback[3] = {1, 2, 0};
  for (int k = 0; k < 3; ++k) {
    if (!ids[k] && from_config[k] && *from_config[k] < real) ids[k] = from_config[k];
    if (!ids[k] && named[k]) ids[k] = id_of(t, *named[k]);
    if (!ids[k]) ids[k] = id_of(t, usual[k]);
    if (!ids[k]) ids[k] = fallback[k];
  }

  GgufVocabulary v;
  v.bos = static_cast<int32_t>(*ids[0]);
  v.eos = static_cast<int32_t>(*ids[1]);
  v.unknown = static_cast<int32_t>(*ids[2]);
  for (int64_t i = 0; i < real; ++i) {
    const std::string& token = t.tokens[static_cast<size_t>(i)];
    int32_t type = kNormal;
    if (is_byte_token(token)) type = kByte;
    else if (i == v.unknown) type = kUnknown;
    else if (t.special.count(i) || i == v.bos || i == v.eos) type = kControl;
    else if (t.user_defined.count(i)) type = kUserDefined;
    v.tokens.push_back(token);
    v.types.push_back(type);
  }
  for (int64_t i = 1; int64_t(v.tokens.size()) < size; ++i) {
    v.tokens.push_back("[PAD" + std::to_string(i) + "]");
    v.types.push_back(kUnused);
  }
  // Pieces no merge makes (single characters, bytes, special and added tokens) are never the
  // result of a merge: their score decides nothing; they keep LlamaHfVocab's.
  v.scores.assign(v.tokens.size(), kHfScore);
  for (const auto& [id, score] : t.merged_scores) v.scores[static_cast<size_t>(id)] = score;
  for (int32_t id : {v.bos, v.eos, v.unknown})
    if (id >= real)
      throw InputFileError(path + ": has no BOS, EOS or unknown token of the id " + std::to_string(id) +
                           " (tokenizer_config.json or config.json names none, and it has no <s>, </s> or <unk>)");
  return v;
}

}  // namespace mlspeed::llama
