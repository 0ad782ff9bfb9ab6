#include "mlspeed/models/llama_gguf.h"

#include <c10/core/InferenceMode.h>
#include <torch/utils.h>

#include <cmath>
#include <map>
#include <regex>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/numerics.h"
#include "mlspeed/core/text.h"

namespace mlspeed::llama {
namespace {

// Where a GGUF tensor goes: its role, its layer (0 outside the layers), and the shape (ne order:
// row length first) the configuration gives it.
struct TensorPlace {
  TensorRole role;
  int64_t layer = 0;
  std::vector<int64_t> dims;
};

// The place of `name` in a model of configuration `c`; empty for a name no Llama tensor has.
std::optional<TensorPlace> place_of(const std::string& name, const LlamaConfig& c) {
  const int64_t h = c.hidden_size, kv = c.num_key_value_heads * c.head_dim(), ffn = c.intermediate_size;
  if (name == "token_embd.weight") return TensorPlace{TensorRole::embedding, 0, {h, c.vocab_size}};
  if (name == "output.weight") return TensorPlace{TensorRole::output, 0, {h, c.vocab_size}};
  if (name == "output_norm.weight") return TensorPlace{TensorRole::norm, -1, {h}};
  static const std::regex layer_tensor(R"(blk\.(\d{1,4})\.([a-z_]+)\.weight)");
  std::smatch m;
  if (!std::regex_match(name, m, layer_tensor)) return std::nullopt;
  const int64_t layer = std::stoll(m[1].str());
  if (layer >= c.num_hidden_layers) return std::nullopt;
  static const std::map<std::string, std::pair<TensorRole, int>> kinds = {
      {"attn_q", {TensorRole::attn_q, 0}},        {"attn_k", {TensorRole::attn_k, 1}},
      {"attn_v", {TensorRole::attn_v, 1}},        {"attn_output", {TensorRole::attn_output, 0}},
      {"ffn_gate", {TensorRole::ffn_gate, 2}},    {"ffn_up", {TensorRole::ffn_up, 2}},
      {"ffn_down", {TensorRole::ffn_down, 3}},    {"attn_norm", {TensorRole::norm, 4}},
      {"ffn_norm", {TensorRole::norm, 5}},
  };
  const auto kind = kinds.find(m[2].str());
  if (kind == kinds.end()) return std::nullopt;
  switch (kind->second.second) {
    case 0: return TensorPlace{kind->second.first, layer, {h, h}};
    case 1: return TensorPlace{kind->second.first, layer, {h, kv}};
    case 2: return TensorPlace{kind->second.first, layer, {h, ffn}};
    case 3: return TensorPlace{kind->second.first, layer, {ffn, h}};
    default: return TensorPlace{TensorRole::norm, kind->second.second == 4 ? 2 * layer : 2 * layer + 1, {h}};
  }
}

[[noreturn]] void bad_model(const gguf::File& file, const std::string& what) {
  throw InputFileError(file.path() + ": " + what);
}

// A positive count from the metadata, at most `limit` (a model no machine holds is a broken file).
int64_t count_key(const gguf::File& file, const std::string& key, int64_t limit) {
  const uint64_t v = file.get_uint(key);
  if (v < 1 || v > static_cast<uint64_t>(limit))
    bad_model(file, key + " is " + std::to_string(v) + "; expected 1 to " + std::to_string(limit));
  return static_cast<int64_t>(v);
}

LlamaConfig config_of(const gguf::File& file) {
  const std::string arch = file.get_string("general.architecture");
  if (arch != "llama")
    bad_model(file, "general.architecture is '" + arch +
                        "'; mlspeed reads Llama-family models ('llama': Llama 2 and 3, Mistral, TinyLlama)");
  LlamaConfig c;
  c.hidden_size = count_key(file, "llama.embedding_length", 1 << 16);
  c.num_hidden_layers = count_key(file, "llama.block_count", 1024);
  c.intermediate_size = count_key(file, "llama.feed_forward_length", 1 << 18);
  c.num_attention_heads = count_key(file, "llama.attention.head_count", 1024);
  c.num_key_value_heads = file.find_uint("llama.attention.head_count_kv")
                              ? count_key(file, "llama.attention.head_count_kv", 1024)
                              : c.num_attention_heads;
  c.max_position_embeddings = count_key(file, "llama.context_length", 1 << 24);
  c.rms_norm_eps = file.get_float("llama.attention.layer_norm_rms_epsilon");
  c.rope_theta = file.find_float("llama.rope.freq_base").value_or(10000.0);
  if (!(c.rms_norm_eps > 0 && c.rms_norm_eps < 1) || !(c.rope_theta > 1 && std::isfinite(c.rope_theta)))
    bad_model(file, "llama.attention.layer_norm_rms_epsilon or llama.rope.freq_base is out of range");
  if (c.hidden_size % c.num_attention_heads != 0 || c.num_attention_heads % c.num_key_value_heads != 0 ||
      c.head_dim() % 2 != 0)
    bad_model(file, "embedding_length " + std::to_string(c.hidden_size) + ", head_count " +
                        std::to_string(c.num_attention_heads) + " and head_count_kv " +
                        std::to_string(c.num_key_value_heads) + " give no even head size shared by whole groups");
  if (auto rope_dims = file.find_uint("llama.rope.dimension_count"); rope_dims && int64_t(*rope_dims) != c.head_dim())
    bad_model(file, "llama.rope.dimension_count is " + std::to_string(*rope_dims) +
                        "; mlspeed rotates whole heads of " + std::to_string(c.head_dim()));
  const gguf::TensorInfo* embedding = file.find("token_embd.weight");
  if (!embedding) bad_model(file, "has no tensor token_embd.weight");
  c.vocab_size = embedding->dims.size() == 2 ? embedding->dims[1] : 0;
  if (c.vocab_size < 1) bad_model(file, "token_embd.weight is not a (vocabulary, embedding) matrix");
  return c;
}

// The file type: general.file_type when it is one mlspeed names, else the matrices' most common
// format (an older file without the key).
ModelFormat file_type_of(const gguf::File& file, const std::map<WeightFormat, int64_t>& matrices) {
  if (auto type = file.find_uint("general.file_type"))
    if (auto known = model_format_of_file_type(static_cast<uint32_t>(*type))) return *known;
  WeightFormat common = WeightFormat::f32;
  int64_t most = -1;
  for (const auto& [format, count] : matrices)
    if (count > most) common = format, most = count;
  switch (common) {
    case WeightFormat::f16: return ModelFormat::f16;
    case WeightFormat::bf16: return ModelFormat::bf16;
    case WeightFormat::q8_0: return ModelFormat::q8_0;
    case WeightFormat::q4_0: return ModelFormat::q4_0;
    case WeightFormat::q4_k: return ModelFormat::q4_k_m;
    case WeightFormat::q6_k: return ModelFormat::q6_k;
    default: return ModelFormat::f32;
  }
}

std::string dims_text(const std::vector<int64_t>& dims) {
  std::string out;
  for (int64_t d : dims) out += (out.empty() ? "" : ", ") + std::to_string(d);
  return "[" + out + "]";
}

}  // namespace

GgufModel describe_gguf(const gguf::File& file) {
  GgufModel m;
  m.config = config_of(file);
  std::map<WeightFormat, int64_t> matrices;
  std::vector<std::string> seen;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const std::optional<TensorPlace> place = place_of(t.name, m.config);
    if (!place)
      bad_model(file, "tensor '" + t.name + "' is no tensor of a Llama with " +
                          std::to_string(m.config.num_hidden_layers) + " layers; mlspeed reads token_embd, output, "
                          "output_norm and blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down,attn_norm,"
                          "ffn_norm}");
    if (t.dims != place->dims)
      bad_model(file, "tensor '" + t.name + "' has dimensions " + dims_text(t.dims) + "; the metadata gives it " +
                          dims_text(place->dims));
    m.parameters += t.elements();
    m.tensor_bytes += t.bytes;
    if (place->role != TensorRole::norm) {
      m.stored.exact[{place->role, place->layer}] = t.format;
      ++matrices[t.format];
    } else if (traits(t.format).quantized) {
      bad_model(file, "tensor '" + t.name + "' is a norm stored as " + std::string(traits(t.format).gguf_name) +
                          "; expected F32, F16 or BF16");
    }
    seen.push_back(t.name);
  }
  const int64_t expected = 2 + 9 * m.config.num_hidden_layers;  // and output.weight, unless tied
  m.tied_output = !file.find("output.weight");
  if (int64_t(seen.size()) != expected + (m.tied_output ? 0 : 1))
    bad_model(file, "has " + std::to_string(seen.size()) + " tensors; a Llama of " +
                        std::to_string(m.config.num_hidden_layers) + " layers has " + std::to_string(expected + 1) +
                        " (or one fewer without output.weight)");
  if (m.tied_output) m.stored.exact[{TensorRole::output, 0}] = m.stored.exact.at({TensorRole::embedding, 0});
  m.file_type = file_type_of(file, matrices);
  m.stored.format = m.file_type;
  m.stored.layers = m.config.num_hidden_layers;
  m.size_label = size_label(m.config, m.parameters);
  m.label = model_label(m.config, m.parameters, m.file_type);
  return m;
}

at::Tensor unpermute_rows(int64_t rows, int64_t heads, bool inverse) {
  const int64_t d = rows / heads;
  std::vector<int64_t> index(static_cast<size_t>(rows));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < d / 2; ++i) {
        const int64_t hf = h * d + j * (d / 2) + i, gguf_row = h * d + 2 * i + j;
        index[static_cast<size_t>(inverse ? gguf_row : hf)] = inverse ? hf : gguf_row;
      }
  return at::tensor(index, at::kLong);
}

namespace {

// The file's bytes of `t` as a CPU tensor over the mapping (rows, bytes of a row); no copy.
at::Tensor mapped_rows(const gguf::File& file, const gguf::TensorInfo& t) {
  const int64_t rows = t.dims.size() == 2 ? t.dims[1] : 1;
  return at::from_blob(const_cast<uint8_t*>(file.data(t)), {rows, static_cast<int64_t>(t.bytes) / rows},
                       at::TensorOptions(at::kByte));
}

// Copies tensor `t` into `target`: the blocks as they are, or the values decoded; rows put in
// Hugging Face's order first when `heads` is given (attn_q, attn_k).
void copy_tensor(const gguf::File& file, const gguf::TensorInfo& t, at::Tensor& target, bool blocks,
                 std::optional<int64_t> heads) {
  at::Tensor rows = mapped_rows(file, t);
  if (heads) rows = rows.index_select(0, unpermute_rows(rows.size(0), *heads));
  if (blocks) {
    target.copy_(rows);
    return;
  }
  const int64_t cols = t.dims[0];
  at::Tensor values = traits(t.format).quantized
                          ? quant::dequantize({t.format, rows.size(0), cols, rows}, at::kFloat)
                          : rows.contiguous().view(dtype_of(t.format)).view({rows.size(0), cols});
  target.copy_(values.view(target.sizes()));
}

}  // namespace

StoredWeights as_loaded(const GgufModel& m, at::ScalarType dtype) {
  StoredWeights s = m.stored;
  for (auto& [place, format] : s.exact)
    if (!traits(format).quantized) format = plain_format_of(dtype);
  return s;
}

LlamaForCausalLM load_gguf(const gguf::File& file, const GgufModel& m, const at::Device& device,
                           at::ScalarType dtype) {
  LlamaForCausalLM model(m.config, at::TensorOptions().device(device).dtype(dtype), as_loaded(m, dtype));
  c10::InferenceMode normal_tensors(false);  // first: it turns gradients back on
  torch::NoGradGuard no_grad;
  const LlamaConfig& c = m.config;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const TensorPlace place = *place_of(t.name, c);  // describe_gguf checked every name
    auto& layers = model->model->typed_layers;
    const auto linear = [&](Linear& l, std::optional<int64_t> heads = std::nullopt) {
      copy_tensor(file, t, l->blocks.defined() ? l->blocks : l->weight, l->blocks.defined(), heads);
    };
    switch (place.role) {
      case TensorRole::embedding: {
        Embedding& e = model->model->embed_tokens;
        copy_tensor(file, t, e->blocks.defined() ? e->blocks : e->weight, e->blocks.defined(), std::nullopt);
        if (m.tied_output) linear(model->lm_head);
        break;
      }
      case TensorRole::output: linear(model->lm_head); break;
      case TensorRole::attn_q: linear(layers[place.layer]->self_attn->q_proj, c.num_attention_heads); break;
      case TensorRole::attn_k: linear(layers[place.layer]->self_attn->k_proj, c.num_key_value_heads); break;
      case TensorRole::attn_v: linear(layers[place.layer]->self_attn->v_proj); break;
      case TensorRole::attn_output: linear(layers[place.layer]->self_attn->o_proj); break;
      case TensorRole::ffn_gate: linear(layers[place.layer]->mlp->gate_proj); break;
      case TensorRole::ffn_up: linear(layers[place.layer]->mlp->up_proj); break;
      case TensorRole::ffn_down: linear(layers[place.layer]->mlp->down_proj); break;
      case TensorRole::norm: {
        // output_norm is layer -1; a layer's attn_norm 2N, its ffn_norm 2N + 1 (place_of).
        RMSNorm& norm = place.layer < 0        ? model->model->norm
                        : place.layer % 2 == 0 ? layers[place.layer / 2]->input_layernorm
                                               : layers[place.layer / 2]->post_attention_layernorm;
        copy_tensor(file, t, norm->weight, false, std::nullopt);
        break;
      }
    }
  }
  model->eval();
  return model;
}

}  // namespace mlspeed::llama
