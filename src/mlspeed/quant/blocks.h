// The weight blocks of core/weight_format.h's table, byte for byte as ggml lays them out
// (ggml-common.h), decoded and encoded in plain C++: the scalar reference that the CPU kernels
// (cpu_kernels.h) and anything reading or writing GGUF tensors rely on.
//
// Conversions of the 16-bit floats are bit-exact: IEEE binary16 and bfloat16, round to nearest
// even, subnormals kept, infinities kept, a NaN stays a NaN (quietened). A block's scales are
// binary16, as in ggml.
//
// Decoding (dequantize_row) is exact: each element is the float ggml's dequantize_row_* gives.
// Encoding (quantize_row) of q8_0 and q4_0 gives the bytes of ggml's reference quantisers
// (quantize_row_q8_0_ref, quantize_row_q4_0_ref); q4_k and q6_k are encoded by a simpler,
// deterministic quantiser than llama.cpp's search (see blocks.cpp): valid blocks that decode to
// within half a quantisation step of the input, though not llama.cpp's bytes.
//
// Both take `elements`, a whole number of blocks (traits(f).block_elements); anything else
// throws std::invalid_argument before a byte is touched. Blocks are read and written unaligned.
#pragma once

#include <cstdint>

#include "mlspeed/core/weight_format.h"

namespace mlspeed::quant {

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
float bf16_to_float(uint16_t b);
uint16_t float_to_bf16(float f);

// Decodes `elements` weights stored in format `f` at `blocks` into `out`.
void dequantize_row(WeightFormat f, const void* blocks, float* out, int64_t elements);

// Encodes `elements` floats into storage_bytes(f, elements) bytes at `blocks`.
void quantize_row(WeightFormat f, const float* in, void* blocks, int64_t elements);

}  // namespace mlspeed::quant
