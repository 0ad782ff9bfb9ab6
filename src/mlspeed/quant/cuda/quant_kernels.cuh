// The CUDA kernels for weight matrices in core/weight_format.h's block formats, as plain launchers
// (device pointers, sizes, a stream): no LibTorch here, so that only register.cu compiles
// LibTorch's headers with nvcc. Built only when LibTorch has CUDA and nvcc is found
// (CMakeLists.txt); register.cu hands them to quant::linear.
//
// A weight matrix is `rows` rows of `cols` elements; row r is the run of storage_bytes(f, cols)
// bytes at `weights + r * row_stride`, ggml's blocks as a GGUF file lays them out (blocks.h),
// at any address: gemv reads the 16-byte granules that hold a row's bytes and picks the bytes out,
// so a row may start at any byte (it reads up to 15 bytes either side of a row, never past a
// 16-byte boundary: inside any CUDA allocation, which starts 256-byte aligned); dequantize needs
// rows at even addresses, as every field of the blocks is 16-bit. `cols` is whole blocks. Activations x and products y are
// float32, float16 or bfloat16 (GpuDtype); each product is accumulated in float32.
//
// Every launcher enqueues its kernels on `stream` and returns at once with cudaGetLastError():
// no host synchronisation, no allocation, so a CUDA graph can capture them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "mlspeed/core/weight_format.h"

namespace mlspeed::quant::gpu {

enum class GpuDtype { f32, f16, bf16 };

// Activations quantised as llama.cpp's q8_1 does, per run of 32 values of a row: int8 q = round(x
// / d) with d = max |x| / 127, and the sum of the run's q (for the formats whose weights carry an
// offset: q4_0's -8, q4_k's mins). Laid out in one scratch buffer of gemv_input_bytes(n, cols).
struct GemvInput {
  const int8_t* q;     // (n, cols)
  const float* d;      // (n, cols / 32)
  const int32_t* sum;  // (n, cols / 32)
};

// Rows of x up to which linear() takes the matrix-vector kernel; more take dequantise + cuBLAS.
inline constexpr int64_t kGemvMaxRows = 8;

size_t gemv_input_bytes(int64_t n, int64_t cols);
GemvInput gemv_input_view(const void* scratch, int64_t n, int64_t cols);

// x (n, cols) with strides (row_stride, col_stride) in elements, quantised into `scratch`.
cudaError_t quantize_gemv_input(const void* x, GpuDtype dtype, int64_t n, int64_t cols, int64_t row_stride,
                                int64_t col_stride, void* scratch, cudaStream_t stream);

// y (n, rows), contiguous, in `dtype`: y[v][r] = sum_c W[r][c] x[v][c] (+ add[v][r] when `add`,
// an (n, rows) array in `dtype`, is not null: rounded once), for a quantised format (q8_0, q4_0,
// q4_k, q6_k) and 1 <= n <= kGemvMaxRows. Each weight byte is read from memory once for all n
// vectors. `add` may be `y` itself.
cudaError_t gemv(WeightFormat f, const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols,
                 const GemvInput& x, int64_t n, const void* add, void* y, GpuDtype dtype, cudaStream_t stream);

// The matrix (rows, cols), contiguous, in `dtype`: each value ggml's dequantisation computed in
// float32 (bit for bit blocks.h's dequantize_row), then rounded to `dtype`. Quantised formats only.
cudaError_t dequantize(WeightFormat f, const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols,
                       void* out, GpuDtype dtype, cudaStream_t stream);

}  // namespace mlspeed::quant::gpu
