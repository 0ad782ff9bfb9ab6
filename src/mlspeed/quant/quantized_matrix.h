// A weight matrix stored in one of the block formats of core/weight_format.h, on any device, and
// the products a model takes of it.
//
//   blocks   uint8 (rows, storage_bytes(format, cols)): row r holds the blocks of the r-th row,
//            exactly as a GGUF file lays them out, so a file's tensor is copied in as it is.
//
// The products pick their kernel by device and by how many input rows there are:
//   * CPU: up to kCpuGemvRows input rows through the vectorised kernels of cpu_kernels.h (each
//     weight byte read once per row, dequantised in registers); more rows (a prompt) dequantise
//     the matrix once into the activations' dtype and take LibTorch's matrix product.
//   * CUDA: the kernels registered by the CUDA build (register_cuda_kernels), else as below.
//   * Any other device (MPS): dequantise with LibTorch ops, then LibTorch's matrix product.
// With LibTorch's kernels alone (core/kernel_set.h: `run --kernels libtorch`) every device
// dequantises with LibTorch ops and takes LibTorch's matrix product. path_name() says which one ran, for the row.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/core/weight_format.h"

namespace mlspeed::quant {

struct QuantizedMatrix {
  WeightFormat format = WeightFormat::f32;
  int64_t rows = 0, cols = 0;
  at::Tensor blocks;  // uint8 (rows, storage_bytes(format, cols))

  bool defined() const { return blocks.defined(); }
  // Rows [start, start + count), sharing the blocks.
  QuantizedMatrix narrow_rows(int64_t start, int64_t count) const;
};

// Uninitialised blocks for a (rows, cols) matrix; throws std::invalid_argument unless cols holds
// whole blocks.
QuantizedMatrix empty_matrix(WeightFormat format, int64_t rows, int64_t cols, const at::Device& device);

// The matrix in `dtype` on the blocks' device (every format; exact: each value is ggml's
// dequantisation computed in float32, then rounded to `dtype`): with one kernel of the CUDA build
// on CUDA when mlspeed's kernels are in force, with LibTorch ops otherwise.
at::Tensor dequantize(const QuantizedMatrix& w, at::ScalarType dtype);

// x (..., cols) times the matrix's transpose: (..., rows) in x's dtype, accumulated in float32.
at::Tensor linear(const at::Tensor& x, const QuantizedMatrix& w);

// Input rows up to which the CUDA kernels' matrix-vector product runs; more dequantise into a scratch
// matrix for cuBLAS (quant/cuda/register.cu).
inline constexpr int64_t kCudaGemvRows = 8;

// Activations already quantised for the CUDA matrix-vector kernels, as quant/cuda/quant_kernels.cuh's
// GemvInput lays them out in one buffer: int8 per value, then a float scale and the int32 sum of
// the quants per run of 32 values of a row. The fused kernels of a decode step (fused/) write their
// outputs in this form, so that the product that reads them needs no kernel to quantise them.
struct QuantizedInput {
  at::Tensor bytes;  // uint8, on a CUDA device
  int64_t rows = 0, cols = 0;
};

// Whether linear() below can take `rows` quantised input rows for `w` on `device` now: mlspeed's
// kernels in force, the CUDA kernels registered, a quantised format, rows <= kCudaGemvRows.
bool takes_quantized_input(const QuantizedMatrix& w, const at::Device& device, int64_t rows);
// x times the matrix's transpose, plus `add` when defined ((x.rows, w.rows) in `dtype`, rounded
// once with the product): (x.rows, w.rows) in `dtype`. Throws unless takes_quantized_input.
at::Tensor linear(const QuantizedInput& x, const QuantizedMatrix& w, at::ScalarType dtype, const at::Tensor& add = {});
// x (rows, cols), a CUDA tensor with cols a multiple of 32, quantised as the kernels take it.
QuantizedInput quantize_input(const at::Tensor& x);
// The values x holds, scale times quant: float32 (rows, cols), on x's device.
at::Tensor dequantize_input(const QuantizedInput& x);
// The bytes of a QuantizedInput of (rows, cols).
int64_t quantized_input_bytes(int64_t rows, int64_t cols);
// The rows `ids` (int64, any shape) dequantised: (ids..., cols) in `dtype` (an embedding lookup).
at::Tensor gather_rows(const QuantizedMatrix& w, const at::Tensor& ids, at::ScalarType dtype);

// Valid random blocks from `generator` (on the blocks' device): random quants with block scales
// chosen so that the weights have a standard deviation of about 0.02 (Hugging Face's init), never
// an infinity or NaN: the speed of a quantised model without a file.
void fill_random(QuantizedMatrix& w, at::Generator generator);

// Blocks of `dense` (rows, cols), any float dtype and device, quantised on the CPU with the
// reference quantisers of blocks.h, then moved to `device`.
QuantizedMatrix quantize(const at::Tensor& dense, WeightFormat format, const at::Device& device);

// The CUDA build's kernels: the product of a few input rows (decoding) and of many (a prompt),
// and the product of an input quantised already; any may be null. Registered once at start-up by the CUDA sources.
struct CudaKernels {
  at::Tensor (*linear)(const at::Tensor& x2d, const QuantizedMatrix& w) = nullptr;
  const char* name = "";
  at::Tensor (*linear_quantized)(const QuantizedInput& x, const QuantizedMatrix& w, at::ScalarType dtype,
                                 const at::Tensor& add) = nullptr;
  QuantizedInput (*quantize_input)(const at::Tensor& x2d) = nullptr;
  at::Tensor (*dequantize)(const QuantizedMatrix& w, at::ScalarType dtype) = nullptr;  // quantised formats
};
void register_cuda_kernels(const CudaKernels& kernels);

// Which product linear() takes for this device, input row count and kernel set: "cpu-avx2",
// "cuda-gemv", "dequantize+matmul", ...
std::string path_name(const at::Device& device, int64_t input_rows, KernelSet kernels);

}  // namespace mlspeed::quant
