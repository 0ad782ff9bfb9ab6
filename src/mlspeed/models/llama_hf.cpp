#include "mlspeed/models/llama_hf.h"

#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/json_input.h"
#include "mlspeed/core/text.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/io/weights.h"

namespace mlspeed::llama {
namespace {

using nlohmann::json;

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";
constexpr int64_t kMaxDimension = std::numeric_limits<int32_t>::max();  // GGUF keeps them as uint32

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string in_folder(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder == "/" ? "/" + name : folder + "/" + name;
}

std::string base_name(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

json read_checkpoint_json(const std::string& path, const std::string& needed_for) {
  if (const std::string why = not_a_regular_file(path); !why.empty())
    throw InputFileError(path + " " + why + (needed_for.empty() ? "" : ": " + needed_for));
  const std::optional<std::string> text = read_whole_file(path);
  if (!text) throw InputFileError(path + ": cannot be read");
  json value;
  try {
    value = parse_json_input<json>(*text);
  } catch (const std::invalid_argument& e) {
    throw InputFileError(path + ": " + e.what());
  }
  if (!value.is_object()) throw InputFileError(path + ": is " + json_excerpt(value) + ", not a JSON object");
  return value;
}

std::string HfCheckpoint::file(const std::string& name) const { return in_folder(folder, name); }

namespace {

// config.json's keys, each error naming the file and the key.
class ConfigReader {
 public:
  ConfigReader(const json& config, std::string path) : config_(config), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw InputFileError(path_ + ": \"" + key + "\" " + what);
  }
  const json* find(const std::string& key) const {
    const auto it = config_.find(key);
    return it == config_.end() || it->is_null() ? nullptr : &*it;
  }
  int64_t whole(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const {
    const json* v = find(key);
    if (!v && fallback) return *fallback;
    if (!v) fail(key, "is missing (a LlamaConfig key quantize needs)");
    if (!v->is_number_integer() || v->get<int64_t>() < 1 || v->get<int64_t>() > kMaxDimension)
      fail(key, "is " + json_excerpt(*v) + ", not a whole number from 1 to " + std::to_string(kMaxDimension));
    return v->get<int64_t>();
  }
  double positive(const std::string& key, std::optional<double> fallback = std::nullopt) const {
    const json* v = find(key);
    if (!v && fallback) return *fallback;
    if (!v) fail(key, "is missing (a LlamaConfig key quantize needs)");
    if (!v->is_number() || !(v->get<double>() > 0) || !std::isfinite(v->get<double>()))
      fail(key, "is " + json_excerpt(*v) + ", not a positive number");
    return v->get<double>();
  }
  bool flag(const std::string& key, bool fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(key, "is " + json_excerpt(*v) + ", not true or false");
    return v->get<bool>();
  }
  // transformers' LlamaConfig reads these as "none" when they are not whole numbers; so does llama.cpp.
  std::optional<int64_t> token_id(const std::string& key) const {
    const json* v = find(key);
    if (!v || !v->is_number_integer() || v->get<int64_t>() < 0) return std::nullopt;
    return v->get<int64_t>();
  }

 private:
  const json& config_;
  std::string path_;
};

void read_config(const std::string& path, HfCheckpoint& checkpoint) {
  const json config = read_checkpoint_json(path, "a Hugging Face checkpoint folder holds config.json (its LlamaConfig)");
  const ConfigReader r(config, path);
  if (const json* type = r.find("model_type"); type && *type != "llama" && *type != "mistral")
    r.fail("model_type", "is " + json_excerpt(*type) + "; quantize reads Llama-family checkpoints (\"llama\", \"mistral\")");
  if (const json* act = r.find("hidden_act"); act && *act != "silu")
    r.fail("hidden_act", "is " + json_excerpt(*act) + "; a Llama's MLP is \"silu\"");
  if (r.find("rope_scaling"))
    r.fail("rope_scaling", "is " + json_excerpt(*r.find("rope_scaling")) +
                               "; quantize writes Llama models without rope scaling (null)");
  LlamaConfig& c = checkpoint.config;
  c.hidden_size = r.whole("hidden_size");
  c.intermediate_size = r.whole("intermediate_size");
  c.num_hidden_layers = r.whole("num_hidden_layers");
  c.num_attention_heads = r.whole("num_attention_heads");
  c.num_key_value_heads = r.whole("num_key_value_heads", c.num_attention_heads);
  c.vocab_size = r.whole("vocab_size");
  c.max_position_embeddings = r.whole("max_position_embeddings");
  c.rms_norm_eps = r.positive("rms_norm_eps");
  c.rope_theta = r.positive("rope_theta", 10000.0);
  checkpoint.tied_embeddings = r.flag("tie_word_embeddings", false);
  checkpoint.bos_token_id = r.token_id("bos_token_id");
  checkpoint.eos_token_id = r.token_id("eos_token_id");
  if (c.hidden_size % c.num_attention_heads != 0 || c.head_dim() % 2 != 0)
    r.fail("hidden_size", std::to_string(c.hidden_size) + " does not split into " + std::to_string(c.num_attention_heads) +
                              " heads (\"num_attention_heads\") of an even size");
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    r.fail("num_key_value_heads", std::to_string(c.num_key_value_heads) + " does not divide \"num_attention_heads\" " +
                                      std::to_string(c.num_attention_heads));
  if (r.find("head_dim") && r.whole("head_dim") != c.head_dim())
    r.fail("head_dim", std::to_string(r.whole("head_dim")) + " is not hidden_size / num_attention_heads (" +
                           std::to_string(c.head_dim()) + "); quantize writes models whose heads split hidden_size");
}

// The shards model.safetensors.index.json names, in order, each a file beside it.
std::vector<std::string> shards_of(const std::string& index_path, const std::string& folder) {
  const json index = read_checkpoint_json(index_path, "");
  const auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object() || map->empty())
    throw InputFileError(index_path + ": \"weight_map\" is missing or empty (it maps every tensor to its shard)");
  std::map<std::string, int64_t> tensors_in;
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string() || file.get<std::string>().empty() || file.get<std::string>().find('/') != std::string::npos)
      throw InputFileError(index_path + ": \"weight_map\" gives " + excerpt(tensor) + " the file " + json_excerpt(file) +
                           ", not the name of a file beside the index");
    ++tensors_in[file.get<std::string>()];
  }
  std::vector<std::string> shards;
  for (const auto& [file, count] : tensors_in) {
    const std::string path = in_folder(folder, file);
    if (const std::string why = not_a_regular_file(path); !why.empty())
      throw InputFileError(path + " " + why + " (" + base_name(index_path) + " puts " + std::to_string(count) +
                           " tensors in it): a shard of the checkpoint is missing");
    shards.push_back(path);
  }
  return shards;
}

// Every value the model holds, from the configuration (double: a hostile config cannot overflow it).
double model_values(const LlamaConfig& c) {
  const double h = double(c.hidden_size), kv = double(c.num_key_value_heads) * double(c.head_dim());
  return double(c.num_hidden_layers) * (2 * h * h + 2 * h * kv + 3 * h * double(c.intermediate_size) + 2 * h) +
         2 * double(c.vocab_size) * h + h;
}

// What the weight files' headers say (the files are mapped, not read).
struct CheckpointHeaders {
  std::set<at::ScalarType> dtypes;
  double values = 0;  // every tensor's elements
  std::map<std::string, std::pair<std::vector<int64_t>, std::string>> shapes;  // by name: shape, file name
  int64_t layers = 0;  // 1 + the highest N of the names "model.layers.N...."
};

CheckpointHeaders read_headers(const std::vector<std::string>& paths) {
  CheckpointHeaders h;
  const std::string layer_prefix = "model.layers.";
  for (const std::string& path : paths) {
    const safetensors::File file(path);
    for (const safetensors::TensorInfo& t : file.tensors()) {
      h.dtypes.insert(t.scalar_type);
      double n = 1;
      for (int64_t d : t.shape) n *= double(d);
      h.values += n;
      h.shapes.emplace(t.name, std::make_pair(t.shape, base_name(path)));
      if (t.name.compare(0, layer_prefix.size(), layer_prefix) == 0) {
        const size_t end = t.name.find('.', layer_prefix.size());
        const std::string digits = t.name.substr(layer_prefix.size(), end - layer_prefix.size());
        if (!digits.empty() && digits.size() < 10 && digits.find_first_not_of("0123456789") == std::string::npos)
          h.layers = std::max(h.layers, int64_t(std::stoll(digits)) + 1);
      }
    }
  }
  return h;
}

}  // namespace

bool is_hf_checkpoint_path(const std::string& path) {
  return is_directory(path) || ends_with(path, ".safetensors") || ends_with(path, ".json");
}

HfCheckpoint open_hf_checkpoint(const std::string& path) {
  HfCheckpoint checkpoint;
  const bool folder_given = is_directory(path);
  std::string folder = folder_given ? path : parent_directory(path);
  while (folder.size() > 1 && folder.back() == '/') folder.pop_back();
  checkpoint.folder = folder;
  checkpoint.name = base_name(checkpoint.folder.empty() ? "." : checkpoint.folder);
  read_config(checkpoint.file("config.json"), checkpoint);
  const std::string single = checkpoint.file(kSingleFile), index = checkpoint.file(kIndexFile);
  if (!folder_given && ends_with(path, ".json")) {
    checkpoint.weight_files = shards_of(path, checkpoint.folder);
  } else if (!folder_given) {
    checkpoint.weight_files = {path};
  } else if (not_a_regular_file(single).empty()) {
    checkpoint.weight_files = {single};
  } else if (not_a_regular_file(index).empty()) {
    checkpoint.weight_files = shards_of(index, checkpoint.folder);
  } else {
    throw InputFileError(path + " holds neither " + kSingleFile + " nor " + kIndexFile +
                         " (quantize reads safetensors checkpoints; pytorch_model.bin is not read)");
  }
  return checkpoint;
}

LlamaForCausalLM load_hf_llama(const HfCheckpoint& checkpoint, const std::function<void(int64_t, int64_t)>& progress) {
  const LlamaConfig& c = checkpoint.config;
  const std::string config_path = checkpoint.file("config.json");
  const CheckpointHeaders headers = read_headers(checkpoint.weight_files);
  if (headers.layers > 0 && headers.layers != c.num_hidden_layers)
    throw InputFileError(config_path + ": \"num_hidden_layers\" is " + std::to_string(c.num_hidden_layers) +
                         ", but the weights hold " + std::to_string(headers.layers) + " layers (model.layers.0 to " +
                         "model.layers." + std::to_string(headers.layers - 1) + ")");
  // Memory is allocated for the config's model before its shapes are compared with the files': a
  // config far larger than its files is refused first (a missing lm_head, a tensor or two, is left
  // to the comparison to name).
  const double values = model_values(c) - (checkpoint.tied_embeddings ? double(c.vocab_size) * double(c.hidden_size) : 0);
  if (values > 2 * headers.values + double(1 << 20))
    throw InputFileError(config_path + " describes a model of " + format_count(values) +
                         " weights, far more than the " + format_count(headers.values) +
                         " values its weight files hold: do config.json and the weights belong together?");
  const bool one_float_type =
      headers.dtypes.size() == 1 && (*headers.dtypes.begin() == at::kFloat || *headers.dtypes.begin() == at::kHalf ||
                                     *headers.dtypes.begin() == at::kBFloat16);
  const at::ScalarType dtype = one_float_type ? *headers.dtypes.begin() : at::kFloat;

  LlamaForCausalLM model(c, at::TensorOptions(dtype));
  const std::string summary = "hidden_size " + std::to_string(c.hidden_size) + ", intermediate_size " +
                              std::to_string(c.intermediate_size) + ", " + std::to_string(c.num_hidden_layers) +
                              " layers, " + std::to_string(c.num_attention_heads) + "/" +
                              std::to_string(c.num_key_value_heads) + " heads, vocab_size " +
                              std::to_string(c.vocab_size);
  // A config that disagrees with its weights makes many shapes differ at once: name the first and
  // the count, in one line, before load_weights' list of every one.
  std::vector<std::string> misfits;
  for (const auto& p : model->named_parameters()) {
    const auto it = headers.shapes.find(p.key());
    if (it != headers.shapes.end() && c10::IntArrayRef(it->second.first) != p.value().sizes())
      misfits.push_back(p.key() + " is " + c10::str(c10::IntArrayRef(it->second.first)) + " in " + it->second.second +
                        ", " + c10::str(p.value().sizes()) + " by config.json");
  }
  if (!misfits.empty())
    throw InputFileError(config_path + " does not fit the weights: " + std::to_string(misfits.size()) + " tensor" +
                         (misfits.size() > 1 ? "s have" : " has") + " another shape, first " + misfits.front() + " (" +
                         summary + ")");

  WeightsOptions options;
  options.ignore_suffixes = {"rotary_emb.inv_freq"};  // old checkpoints saved the rotary table
  if (checkpoint.tied_embeddings) options.optional_suffixes = {"lm_head.weight"};
  try {
    load_weights(*model, checkpoint.weight_files, options, progress);
  } catch (const InputFileError& e) {
    throw InputFileError(std::string(e.what()) + "\n  (the model is config.json's: " + summary + ")");
  }
  if (checkpoint.tied_embeddings) {
    c10::InferenceMode normal_tensors(false);
    torch::NoGradGuard no_grad;
    model->lm_head->weight.copy_(model->model->embed_tokens->weight);
  }
  return model;
}

}  // namespace mlspeed::llama
