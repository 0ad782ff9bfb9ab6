// How a model's weights are stored, as ggml's type_traits table does it: one row per format, and
// everything else (names, block layout, bits per weight, the GGUF type id) read from that row.
//
//   format  GGUF   ggml id  block  bytes  bits/weight  layout of one block (ggml's, little-endian)
//   f32     F32    0        1      4      32
//   f16     F16    1        1      2      16
//   bf16    BF16   30       1      2      16
//   q8_0    Q8_0   8        32     34     8.5          fp16 d; int8 q[32]                x = d q
//   q4_0    Q4_0   2        32     18     4.5          fp16 d; q[16]: element j in the low nibble
//                                                      of byte j, element j+16 in its high one;
//                                                      x = d (q - 8)
//   q4_k    Q4_K   12       256    144    4.5          fp16 d, dmin; 12 bytes of 6-bit scales and
//                                                      mins for 8 sub-blocks of 32; q[128]
//                                                      nibbles; x = d sc q - dmin m
//   q6_k    Q6_K   14       256    210    6.5625       ql[128] low 4 bits, qh[64] high 2 bits,
//                                                      int8 scales[16] for 16 sub-blocks of 16;
//                                                      fp16 d; x = d scale (q - 32)
//
// Bits per weight is a real number (block bytes * 8 / block elements): memory estimates, bytes
// read per token and MBU are computed from it, never from a whole byte count.
//
// A model file mixes formats: llama.cpp's "file types" (general.file_type: Q4_0, Q4_K_M, ...)
// name the mix, and ModelFormat (below) says which format each tensor gets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mlspeed {

enum class WeightFormat { f32, f16, bf16, q8_0, q4_0, q4_k, q6_k };

inline constexpr std::array<WeightFormat, 7> kAllWeightFormats = {
    WeightFormat::f32,  WeightFormat::f16,  WeightFormat::bf16, WeightFormat::q8_0,
    WeightFormat::q4_0, WeightFormat::q4_k, WeightFormat::q6_k};

struct WeightFormatTraits {
  std::string_view name;       // mlspeed's spelling: "q4_0"
  std::string_view gguf_name;  // ggml's: "Q4_0"
  uint32_t ggml_type;          // the type id in a GGUF tensor info
  int64_t block_elements;      // elements one block holds (1 for the plain formats)
  int64_t block_bytes;         // bytes of one block
  bool quantized;              // blocks with scales, not one number per element
};

const WeightFormatTraits& traits(WeightFormat f);
std::string_view name(WeightFormat f);
double bits_per_weight(WeightFormat f);
// The bytes `elements` weights take: whole blocks; throws std::invalid_argument when
// `elements` is not a multiple of the block (a quantised row must hold whole blocks).
int64_t storage_bytes(WeightFormat f, int64_t elements);
// The format of a GGUF tensor type id; none for a type mlspeed does not read.
std::optional<WeightFormat> format_of_ggml_type(uint32_t type);
// ggml's name of any type id it has defined ("IQ2_XXS" for 16), for messages about the types
// mlspeed refuses; "type N" for an id ggml never used.
std::string ggml_type_name(uint32_t type);
// "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K": the GGUF tensor types mlspeed reads.
std::string supported_ggml_types();

// A whole model's storage: a plain dtype for every weight, or one of llama.cpp's quantised
// file types, which keep the norms in f32 and give some tensors more bits (see tensor_format).
// (Q4_K_S and the other K mixes give some tensors Q5_K or Q3_K, formats mlspeed does not read.)
enum class ModelFormat { f32, f16, bf16, q8_0, q4_0, q4_k_m, q6_k };

inline constexpr std::array<ModelFormat, 7> kAllModelFormats = {
    ModelFormat::f32,  ModelFormat::f16,    ModelFormat::bf16, ModelFormat::q8_0,
    ModelFormat::q4_0, ModelFormat::q4_k_m, ModelFormat::q6_k};

std::string_view name(ModelFormat f);        // "q4_k_m"
std::string_view label(ModelFormat f);       // llama.cpp's: "Q4_K_M", as llama-bench's model column
uint32_t llama_file_type(ModelFormat f);     // general.file_type (llama.cpp's LLAMA_FTYPE_MOSTLY_*)
std::optional<ModelFormat> model_format_of_file_type(uint32_t file_type);
// Accepts mlspeed's or llama.cpp's spelling in any case ("q4_k_m", "Q4_K_M"), and the dtype
// names "fp32", "fp16" for f32 and f16.
std::optional<ModelFormat> parse_model_format(std::string_view text);
std::string model_format_choices();
// Whether the file type stores its matrices in quantised blocks (q8_0 and below).
bool is_quantized(ModelFormat f);  // "f32, f16, bf16, q8_0, q4_0, q4_k_m, q6_k"

// The role of a weight in a Llama-family model, as llama.cpp's quantiser tells them apart.
enum class TensorRole { embedding, output, attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down, norm };

// The format llama.cpp's quantiser (llama_tensor_get_type in llama-quant.cpp) gives a tensor of
// this role in layer `layer` of `layers` under file type `f`, for a Llama with fewer than 70B
// parameters and no experts: norms f32 (one-dimensional tensors are never quantised); output
// Q6_K in every quantised type but Q8_0; under Q4_K_M, attn_v and ffn_down Q6_K in the first and
// last eighth of the layers and every third layer between (its use_more_bits); every other tensor
// the file type's own format. (70B's Q4_K_M gives attn_v Q5_K, which mlspeed does not write.)
// A row of `cols` elements that is no whole number of the format's blocks falls back as
// llama.cpp's tensor_type_fallback does, to formats mlspeed reads: Q6_K to Q8_0, Q4_K to Q4_0
// (llama.cpp takes Q5_0), and a row of no whole 32-element blocks to F16.
WeightFormat tensor_format(ModelFormat f, TensorRole role, int64_t layer, int64_t layers, int64_t cols);

}  // namespace mlspeed
