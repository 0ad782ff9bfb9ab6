// A Llama-family model read from a Hugging Face checkpoint folder, the input of llama.cpp's
// convert_hf_to_gguf.py (then llama-quantize), for `mlspeed quantize FOLDER OUT`:
//
//   config.json                     LlamaConfig (model_type "llama" or "mistral"):
//                                     required  hidden_size, intermediate_size, num_hidden_layers,
//                                               num_attention_heads, vocab_size, rms_norm_eps,
//                                               max_position_embeddings
//                                     optional  num_key_value_heads (default num_attention_heads),
//                                               rope_theta (10000), tie_word_embeddings (false),
//                                               as transformers' LlamaConfig defaults them (Llama 2's
//                                               own config.json has no rope_theta)
//                                     refused   rope_scaling other than null, hidden_act other than
//                                               silu, a head_dim other than hidden_size / heads
//   model.safetensors               the weights, under the names of models/llama.h; or, sharded,
//   model.safetensors.index.json    whose weight_map names the model-0000N-of-0000M.safetensors
//                                   files (every module tensor found exactly once across them)
//   tokenizer.json ...              the vocabulary: models/llama_hf_vocabulary.h
//
// The path given may be the folder, its model.safetensors or its model.safetensors.index.json.
// Every error is an InputFileError that names the file and the key (or tensor) and says what was
// expected, raised before any weight is read.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mlspeed/models/llama.h"

namespace mlspeed::llama {

struct HfCheckpoint {
  std::string folder;        // where config.json and tokenizer.json are
  std::string name;          // the folder's own name ("Llama-2-7b-hf"): general.name, as llama.cpp's converter
  LlamaConfig config;
  bool tied_embeddings = false;           // tie_word_embeddings: lm_head is embed_tokens (no lm_head.weight)
  std::vector<std::string> weight_files;  // model.safetensors, or the shards in order
  std::optional<int64_t> bos_token_id, eos_token_id;  // config.json's, when whole numbers

  std::string file(const std::string& name) const;  // a file of the folder
};

// A JSON object file of the checkpoint, read through core/json_input's nesting guard. A file that
// is missing or not a regular file is an InputFileError naming it, then `needed_for` when given
// ("... does not exist: <needed_for>"); so is one that is no JSON object, with the byte and line.
nlohmann::json read_checkpoint_json(const std::string& path, const std::string& needed_for = "");

// Whether `path` names a Hugging Face checkpoint rather than a GGUF file: a folder, a
// .safetensors file or a .json file (the shards' index).
bool is_hf_checkpoint_path(const std::string& path);

// Reads config.json and finds the weight files (each must exist); nothing else is read yet.
HfCheckpoint open_hf_checkpoint(const std::string& path);

// The model with the checkpoint's weights, on the CPU, its parameters in the weights' own dtype
// (F32, F16 or BF16; float32 when they mix): every later conversion (the GGUF writer's to float
// and quantisation) is then the one it would be from the file, and a 7B bf16 checkpoint takes
// 13 GB, not 27. The config is checked against the files' headers first: its layer count against
// the layers named, its size (a config far larger than the files is refused before its model is
// allocated), then every shape, a misfit named in one line by the first tensor and the count; then
// load_weights (io/weights.h) checks that every tensor is found exactly once. With tied
// embeddings lm_head is a copy of embed_tokens (an lm_head.weight in the files is checked for
// shape and not used, as transformers ties it). `progress` is load_weights'.
LlamaForCausalLM load_hf_llama(const HfCheckpoint& checkpoint,
                               const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace mlspeed::llama
