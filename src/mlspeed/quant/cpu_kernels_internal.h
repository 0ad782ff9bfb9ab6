// What cpu_kernels.cpp hands the kernels of each instruction set (cpu_kernels_portable.cpp,
// cpu_kernels_avx2.cpp, cpu_kernels_avx512.cpp): the weights, and the input vectors prepared for
// the weight format. Internal to this folder.
//
// Quantised weights multiply integers (see cpu_kernels.h): each input vector is quantised to int8
// once per call, laid out as arrays (not blocks) so that the kernels load 32 or 64 of its bytes
// at once, and with the sums the kernels need to take the weights' offsets out of a dot product:
//
//   q8_0, q4_0  q: int8 per element; d: scale per 32; bias: per 4 elements, -128 (q8_0) or -8
//               (q4_0) times the sum of their q. A dot product of unsigned weight bytes u = w + 128
//               (q8_0's int8 weight, flipped) or u = w + 8 (q4_0's nibble) with q, plus the bias
//               of those elements, is the dot product of the weights themselves with q; the bias is
//               per group of 4 because VNNI's vpdpbusd and maddubs + madd both leave one int32
//               per 4 bytes. (AVX2's q8_0 kernel multiplies |w| by x with w's sign instead, and
//               the portable kernels multiply the signed values: they leave the bias unused.)
//   q4_k, q6_k  q: int8 per element; d: scale per 256; sum16: sum of q per 16 (q6_k's -32
//               offset, applied per scale); sum32: per 32 (q4_k's mins). llama.cpp's block_q8_K.
//
// Every array is n consecutive runs, one per vector, of cols / (elements per entry) entries.
#pragma once

#include <cstdint>

#include "mlspeed/core/weight_format.h"

namespace mlspeed::quant::kernels {

struct Inputs {
  int64_t cols = 0, n = 0;
  const float* x = nullptr;   // the floats, for f32, f16, bf16 weights
  const int8_t* q = nullptr;  // the rest for the quantised formats
  const float* d = nullptr;
  const int32_t* bias = nullptr;
  const int16_t* sum16 = nullptr;
  const int16_t* sum32 = nullptr;
};

struct Job {
  WeightFormat format;
  const uint8_t* weight;  // row r at weight + r * row_bytes
  int64_t row_bytes, rows;
  const Inputs* in;
  float* y;  // y[v * rows + r]
};

// One run of input arrays (as in Inputs, writable): bias for q8_0 and q4_0, sum16 and sum32 for
// q4_k and q6_k, the others null.
struct InputArrays {
  int8_t* q;
  float* d;
  int32_t* bias;
  int16_t* sum16;
  int16_t* sum32;
};

// Quantises `elements` floats (whole blocks of f) into `out` for weights of format f: per 32
// (q8_0, q4_0) or 256 (q4_k, q6_k) elements the scale d = max |x| / 127 and q = x / d rounded to
// nearest even, within -127..127 (never -128: maddubs' products then cannot saturate). Both
// variants write the same bytes; the AVX-512 kernels take AVX2's.
void quantize_input_portable(WeightFormat f, const float* x, int64_t elements, const InputArrays& out);
void quantize_input_avx2(WeightFormat f, const float* x, int64_t elements, const InputArrays& out);

// Each computes y for every vector and the rows [begin, end).
void rows_portable(const Job& job, int64_t begin, int64_t end);
void rows_avx2(const Job& job, int64_t begin, int64_t end);
void rows_avx512(const Job& job, int64_t begin, int64_t end);

// Whether this CPU (and its operating system) runs the variant's instructions.
bool cpu_runs_avx2();
bool cpu_runs_avx512();

}  // namespace mlspeed::quant::kernels
