// A tiny Hugging Face Llama checkpoint folder for tests, laid out as the Hub's are: config.json (a
// LlamaConfig), tokenizer.json (Llama 2's kind: a BPE with byte_fallback, <unk> <s> </s>, the 256
// byte tokens, a few pieces, one special and one plain added token past the vocabulary) and the
// weights in model.safetensors or in shards with model.safetensors.index.json.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/models/llama.h"
#include "testing/test_support.h"

namespace mlspeed::testing {

inline constexpr const char* kHfSpace = "\xE2\x96\x81";  // U+2581
// The pieces after the byte tokens (ids 259...), then the added tokens.
inline const std::vector<std::string>& tiny_hf_pieces() {
  static const std::vector<std::string> pieces = [] {
    std::vector<std::string> p = {kHfSpace};
    for (char c = 'a'; c <= 'z'; ++c) p.push_back(std::string(1, c));
    for (const char* more : {"ab", "ba"}) p.push_back(more);
    p.push_back(std::string(kHfSpace) + "a");
    p.push_back(std::string(kHfSpace) + "ab");
    return p;
  }();
  return pieces;
}
inline constexpr int64_t kTinyHfBase = 259 + 31;  // model.vocab's size: 3 special, 256 bytes, 31 pieces

// tokenizer.json of Llama 2's kind over tiny_hf_pieces(); added tokens "<|end|>" (special) and
// "<tool>" (not) take the ids after model.vocab.
inline nlohmann::json tiny_hf_tokenizer() {
  using nlohmann::json;
  json vocab = json::object();
  vocab["<unk>"] = 0;
  vocab["<s>"] = 1;
  vocab["</s>"] = 2;
  for (int b = 0; b < 256; ++b) vocab[printf_string("<0x%02X>", b)] = 3 + b;
  int64_t id = 259;
  for (const std::string& piece : tiny_hf_pieces()) vocab[piece] = id++;
  const auto added = [](int64_t i, const std::string& content, bool special) {
    return json{{"id", i}, {"content", content}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                {"normalized", false}, {"special", special}};
  };
  const std::string space = kHfSpace;
  return json{
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", json::array({added(0, "<unk>", true), added(1, "<s>", true), added(2, "</s>", true),
                                    added(kTinyHfBase, "<|end|>", true), added(kTinyHfBase + 1, "<tool>", false)})},
      {"normalizer",
       {{"type", "Sequence"},
        {"normalizers", json::array({{{"type", "Prepend"}, {"prepend", space}},
                                     {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", space}}})}}},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", json::array({{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}})}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", json::array({{{"type", "Replace"}, {"pattern", {{"String", space}}}, {"content", " "}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}}})}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", "<unk>"},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"vocab", vocab},
        {"merges", json::array({"a b", "b a", space + " a", space + "a b"})}}},
  };
}

// config.json of a LlamaForCausalLM of `c` (transformers' keys; Llama 2's have no rope_theta,
// this one has).
inline nlohmann::json tiny_hf_config(const llama::LlamaConfig& c, bool tied = false) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_act", "silu"},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"num_hidden_layers", c.num_hidden_layers},
          {"num_attention_heads", c.num_attention_heads},
          {"num_key_value_heads", c.num_key_value_heads},
          {"max_position_embeddings", c.max_position_embeddings},
          {"rms_norm_eps", c.rms_norm_eps},
          {"rope_theta", c.rope_theta},
          {"rope_scaling", nullptr},
          {"tie_word_embeddings", tied},
          {"vocab_size", c.vocab_size},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"torch_dtype", "float32"}};
}

// Every parameter of `model` by name, as save_weights writes them (minus lm_head when tied).
inline std::vector<std::pair<std::string, at::Tensor>> hf_tensors(llama::LlamaForCausalLM& model, bool tied) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : model->named_parameters())
    if (!(tied && p.key() == "lm_head.weight")) tensors.emplace_back(p.key(), p.value().detach());
  return tensors;
}

// The folder `folder` (created) with config.json, tokenizer.json and the weights of `model`: one
// model.safetensors when shards is 1, else that many model-0000N-of-0000M.safetensors files (the
// tensors dealt out in turn) and model.safetensors.index.json.
inline void write_hf_checkpoint(const std::string& folder, llama::LlamaForCausalLM& model, int shards = 1,
                                bool tied = false) {
  make_directories(folder);
  write_file(folder + "/config.json", tiny_hf_config(model->config(), tied).dump(2));
  write_file(folder + "/tokenizer.json", tiny_hf_tokenizer().dump(2));
  const auto tensors = hf_tensors(model, tied);
  if (shards == 1) {
    safetensors::save(folder + "/model.safetensors", tensors, {{"format", "pt"}});
    return;
  }
  nlohmann::json map = nlohmann::json::object();
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> parts(static_cast<size_t>(shards));
  for (size_t i = 0; i < tensors.size(); ++i) parts[i % parts.size()].push_back(tensors[i]);
  for (int s = 0; s < shards; ++s) {
    const std::string name = printf_string("model-%05d-of-%05d.safetensors", s + 1, shards);
    safetensors::save(folder + "/" + name, parts[static_cast<size_t>(s)], {{"format", "pt"}});
    for (const auto& [tensor, value] : parts[static_cast<size_t>(s)]) map[tensor] = name;
  }
  write_file(folder + "/model.safetensors.index.json",
             nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", map}}.dump(2));
}

}  // namespace mlspeed::testing
