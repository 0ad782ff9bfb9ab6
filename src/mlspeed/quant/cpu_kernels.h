// Matrix-vector products over weights stored in core/weight_format.h's formats, on the CPU: what
// decoding a token needs (each weight read once per token, so the speed is the memory's).
//
// A weight matrix is `rows` rows of `cols` elements, row r being the r-th run of
// storage_bytes(f, cols) bytes at `weight` (ggml's layout of a 2-D tensor, blocks of blocks.h);
// `cols` must be whole blocks (std::invalid_argument otherwise). Inputs and outputs are float:
//
//   gemv       y[r] = sum_c W[r][c] x[c]                          x: cols,      y: rows
//   gemm_rows  y[v * rows + r] = sum_c W[r][c] x[v * cols + c]    x: n x cols,  y: n x rows
//
// gemm_rows reads each weight row once for all n vectors: for a handful of them (speculative or
// batched decoding); a large n is better served by dequantising and one matrix multiply.
//
// Accuracy. The plain formats (f32, f16, bf16) multiply in float. The quantised ones multiply
// integers, as llama.cpp does: x is first quantised to int8 with a float scale per 32 elements
// (q8_0, q4_0 weights) or per 256 (q4_k, q6_k), each element to within half its step, max|x| / 254
// of its block. Against the exact product of the dequantised weights the error is at most
// sum_c |W[r][c]| max|x| / 254 plus float rounding. y never depends on the thread count. x must be
// finite: a NaN or an infinity in x gives unspecified y (as for llama.cpp's int8 inputs).
//
// Rows are spread over LibTorch's intra-op threads (at::parallel_for), never for a matrix small
// enough that starting them costs more than they save (at::parallel_for spreads them only in a
// build that compiles cpu_kernels.cpp with -fopenmp: LibTorch's OpenMP backend is inline). The
// instruction set is chosen when called: AVX-512 (F, BW, VL and VNNI), AVX2 (with FMA and F16C)
// or portable C++; the environment variable MLSPEED_QUANT_ISA=portable|avx2|avx512 caps it (a
// test runs each variant the machine has).
#pragma once

#include <cstdint>
#include <string>

#include "mlspeed/core/weight_format.h"

namespace mlspeed::quant {

void gemv(WeightFormat f, const void* weight, int64_t rows, int64_t cols, const float* x, float* y);

void gemm_rows(WeightFormat f, const void* weight, int64_t rows, int64_t cols, const float* x, int64_t n, float* y);

// The variant gemv and gemm_rows use now: "avx512", "avx2" or "portable", for result rows.
// Throws std::invalid_argument when MLSPEED_QUANT_ISA holds anything but those three names.
std::string cpu_kernel_isa();

}  // namespace mlspeed::quant
