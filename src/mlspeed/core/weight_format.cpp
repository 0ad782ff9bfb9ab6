#include "mlspeed/core/weight_format.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace mlspeed {
namespace {

// The one table of formats (see the header), in the enum's order.
constexpr WeightFormatTraits kWeightFormats[] = {
    {"f32", "F32", 0, 1, 4, false},       {"f16", "F16", 1, 1, 2, false},
    {"bf16", "BF16", 30, 1, 2, false},    {"q8_0", "Q8_0", 8, 32, 34, true},
    {"q4_0", "Q4_0", 2, 32, 18, true},    {"q4_k", "Q4_K", 12, 256, 144, true},
    {"q6_k", "Q6_K", 14, 256, 210, true},
};

// ggml's names of its type ids (ggml.h's enum ggml_type), for the types mlspeed refuses; ids
// ggml retired are empty.
constexpr std::string_view kGgmlNames[] = {
    "F32",     "F16",    "Q4_0",    "Q4_1",  "",       "",      "Q5_0",   "Q5_1",  "Q8_0",    "Q8_1",
    "Q2_K",    "Q3_K",   "Q4_K",    "Q5_K",  "Q6_K",   "Q8_K",  "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
    "IQ4_NL",  "IQ3_S",  "IQ2_S",   "IQ4_XS", "I8",    "I16",   "I32",    "I64",   "F64",     "IQ1_M",
    "BF16",    "",       "",        "",      "TQ1_0",  "TQ2_0", "",       "",      "",        "MXFP4",
};

struct ModelRow {
  std::string_view name, label;
  uint32_t file_type;  // llama.cpp's LLAMA_FTYPE_ALL_F32 / MOSTLY_*
  WeightFormat base;   // the format of most tensors
};

constexpr ModelRow kModels[] = {
    {"f32", "F32", 0, WeightFormat::f32},       {"f16", "F16", 1, WeightFormat::f16},
    {"bf16", "BF16", 32, WeightFormat::bf16},   {"q8_0", "Q8_0", 7, WeightFormat::q8_0},
    {"q4_0", "Q4_0", 2, WeightFormat::q4_0},    {"q4_k_m", "Q4_K_M", 15, WeightFormat::q4_k},
    {"q6_k", "Q6_K", 18, WeightFormat::q6_k},
};

const ModelRow& model_row(ModelFormat f) { return kModels[static_cast<size_t>(f)]; }

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool use_more_bits(int64_t layer, int64_t layers) {
  return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
}

}  // namespace

const WeightFormatTraits& traits(WeightFormat f) { return kWeightFormats[static_cast<size_t>(f)]; }
std::string_view name(WeightFormat f) { return traits(f).name; }

double bits_per_weight(WeightFormat f) {
  return 8.0 * static_cast<double>(traits(f).block_bytes) / static_cast<double>(traits(f).block_elements);
}

int64_t storage_bytes(WeightFormat f, int64_t elements) {
  const WeightFormatTraits& t = traits(f);
  if (elements < 0 || elements % t.block_elements != 0)
    throw std::invalid_argument(std::to_string(elements) + " elements are not whole " + std::string(t.gguf_name) +
                                " blocks of " + std::to_string(t.block_elements));
  return elements / t.block_elements * t.block_bytes;
}

std::optional<WeightFormat> format_of_ggml_type(uint32_t type) {
  for (WeightFormat f : kAllWeightFormats)
    if (traits(f).ggml_type == type) return f;
  return std::nullopt;
}

std::string ggml_type_name(uint32_t type) {
  if (type < std::size(kGgmlNames) && !kGgmlNames[type].empty()) return std::string(kGgmlNames[type]);
  return "type " + std::to_string(type);
}

std::string supported_ggml_types() {
  std::string out;
  for (WeightFormat f : kAllWeightFormats) out += (out.empty() ? "" : ", ") + std::string(traits(f).gguf_name);
  return out;
}

std::string_view name(ModelFormat f) { return model_row(f).name; }
std::string_view label(ModelFormat f) { return model_row(f).label; }
uint32_t llama_file_type(ModelFormat f) { return model_row(f).file_type; }

std::optional<ModelFormat> model_format_of_file_type(uint32_t file_type) {
  for (ModelFormat f : kAllModelFormats)
    if (model_row(f).file_type == file_type) return f;
  return std::nullopt;
}

std::optional<ModelFormat> parse_model_format(std::string_view text) {
  const std::string key = lower(text);
  if (key == "fp32") return ModelFormat::f32;
  if (key == "fp16") return ModelFormat::f16;
  for (ModelFormat f : kAllModelFormats)
    if (model_row(f).name == key) return f;
  return std::nullopt;
}

std::string model_format_choices() {
  std::string out;
  for (ModelFormat f : kAllModelFormats) out += (out.empty() ? "" : ", ") + std::string(name(f));
  return out;
}

bool is_quantized(ModelFormat f) { return traits(model_row(f).base).quantized; }

namespace {

WeightFormat chosen_format(ModelFormat f, TensorRole role, int64_t layer, int64_t layers) {
  const WeightFormat base = model_row(f).base;
  if (role == TensorRole::norm) return WeightFormat::f32;
  if (!traits(base).quantized) return base;
  if (role == TensorRole::output) return base == WeightFormat::q8_0 ? base : WeightFormat::q6_k;
  if (f == ModelFormat::q4_k_m && (role == TensorRole::attn_v || role == TensorRole::ffn_down) &&
      use_more_bits(layer, layers))
    return WeightFormat::q6_k;
  return base;
}

}  // namespace

WeightFormat tensor_format(ModelFormat f, TensorRole role, int64_t layer, int64_t layers, int64_t cols) {
  WeightFormat chosen = chosen_format(f, role, layer, layers);
  if (cols % traits(chosen).block_elements != 0) {
    if (chosen == WeightFormat::q6_k) chosen = WeightFormat::q8_0;
    if (chosen == WeightFormat::q4_k) chosen = WeightFormat::q4_0;
  }
  return cols % traits(chosen).block_elements == 0 ? chosen : WeightFormat::f16;
}

}  // namespace mlspeed
