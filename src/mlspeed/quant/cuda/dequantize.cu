// Dequantisation of a whole matrix (q8_0, q4_0, q4_k, q6_k) into float32, float16 or bfloat16, for
// the prompt path: many input rows are cheaper as one cuBLAS product over the dequantised matrix
// than as a matrix-vector product per row.
//
// One thread for 8 consecutive values of a row: the warp's stores are 32 contiguous runs of 8
// (16-byte stores for 16-bit outputs), so the writes, which are 2 to 7 times the bytes read,
// coalesce; the block bytes are read with byte and 16-bit loads, served by L1 to the threads of a
// block. Each value is blocks.cpp's float32 arithmetic in its order, with the multiply-adds kept
// apart (__fmul_rn, __fsub_rn: no contraction into an fma), so the float32 values are bit for bit
// blocks.h's dequantize_row before the rounding to the output dtype.
#include <cuda_runtime.h>

#include <cstdint>

#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/launch.cuh"
#include "mlspeed/quant/cuda/quant_kernels.cuh"

namespace mlspeed::quant::gpu {
namespace {

// The 16-bit little-endian field at p (2-byte aligned: every field of ggml's blocks is).
__device__ __forceinline__ uint32_t cuq_u16(const uint8_t* p) { return *reinterpret_cast<const uint16_t*>(p); }

// Values [first, first + 8) of one block; `first` a multiple of 8.
struct CuqDequantQ8_0 {
  static constexpr int kBytes = 34, kValues = 32;
  __device__ static void values(const uint8_t* b, int first, float (&out)[8]) {
    const float d = cuq_half_bits_to_float(cuq_u16(b));
    const auto* q = reinterpret_cast<const int8_t*>(b + 2 + first);
#pragma unroll
    for (int j = 0; j < 8; ++j) out[j] = __fmul_rn(static_cast<float>(q[j]), d);
  }
};

struct CuqDequantQ4_0 {
  static constexpr int kBytes = 18, kValues = 32;
  __device__ static void values(const uint8_t* b, int first, float (&out)[8]) {
    const float d = cuq_half_bits_to_float(cuq_u16(b));
    const uint8_t* q = b + 2 + (first & 15);
    const int shift = first < 16 ? 0 : 4;  // values 0-15 in the low nibbles, 16-31 in the high
#pragma unroll
    for (int j = 0; j < 8; ++j) out[j] = __fmul_rn(static_cast<float>(((q[j] >> shift) & 0xF) - 8), d);
  }
};

// blocks.h's q4k_scale_min on the block's 12 scale bytes.
__device__ __forceinline__ void cuq_dequant_scale_min(const uint8_t* s, int j, int& sc, int& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

struct CuqDequantQ4K {
  static constexpr int kBytes = 144, kValues = 256;
  __device__ static void values(const uint8_t* b, int first, float (&out)[8]) {
    const float d = cuq_half_bits_to_float(cuq_u16(b)), dmin = cuq_half_bits_to_float(cuq_u16(b + 2));
    const int chunk = first / 64, in_chunk = first % 64, high = in_chunk >= 32;
    int sc, m;
    cuq_dequant_scale_min(b + 4, 2 * chunk + high, sc, m);
    const float step = __fmul_rn(d, static_cast<float>(sc)), offset = __fmul_rn(dmin, static_cast<float>(m));
    const uint8_t* q = b + 16 + 32 * chunk + (in_chunk & 31);
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int nibble = high ? q[j] >> 4 : q[j] & 0xF;
      out[j] = __fsub_rn(__fmul_rn(step, static_cast<float>(nibble)), offset);
    }
  }
};

struct CuqDequantQ6K {
  static constexpr int kBytes = 210, kValues = 256;
  __device__ static void values(const uint8_t* b, int first, float (&out)[8]) {
    const float d = cuq_half_bits_to_float(cuq_u16(b + 208));
    const int half = first / 128, run = (first % 128) / 32, l = first % 32;
    const uint8_t* ql = b + 64 * half + l + 32 * (run & 1);
    const uint8_t* qh = b + 128 + 32 * half + l;
    const int scale = static_cast<int8_t>(b[192 + 8 * half + l / 16 + 2 * run]);
    const float step = __fmul_rn(d, static_cast<float>(scale));
    const int low_shift = run >= 2 ? 4 : 0, high_shift = 2 * run;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int q = (((ql[j] >> low_shift) & 0xF) | (((qh[j] >> high_shift) & 3) << 4)) - 32;
      out[j] = __fmul_rn(step, static_cast<float>(q));
    }
  }
};

template <class F, GpuDtype D>
__global__ void __launch_bounds__(256) cuq_dequantize_kernel(const uint8_t* __restrict__ weights, int64_t row_stride,
                                                             int64_t rows, int64_t cols, void* __restrict__ out) {
  const int64_t octets_per_row = cols / 8;
  const int64_t octet = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if (octet >= rows * octets_per_row) return;
  const int64_t row = octet / octets_per_row, value = (octet % octets_per_row) * 8;
  const uint8_t* block = weights + row * row_stride + (value / F::kValues) * F::kBytes;
  float v[8];
  F::values(block, static_cast<int>(value % F::kValues), v);
  cuq_store8<D>(out, row * cols + value, v);
}

template <class F>
void cuq_launch_dequantize(const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols, void* out,
                           GpuDtype dtype, cudaStream_t stream) {
  const int64_t octets = rows * (cols / 8);
  const auto grid = static_cast<unsigned>((octets + 255) / 256);
  switch (dtype) {
    case GpuDtype::f32:
      cuq_launch(cuq_dequantize_kernel<F, GpuDtype::f32>, grid, 256, stream, weights, row_stride, rows, cols, out);
      break;
    case GpuDtype::f16:
      cuq_launch(cuq_dequantize_kernel<F, GpuDtype::f16>, grid, 256, stream, weights, row_stride, rows, cols, out);
      break;
    case GpuDtype::bf16:
      cuq_launch(cuq_dequantize_kernel<F, GpuDtype::bf16>, grid, 256, stream, weights, row_stride, rows, cols, out);
      break;
  }
}

}  // namespace

cudaError_t dequantize(WeightFormat f, const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols,
                       void* out, GpuDtype dtype, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0 || cols % traits(f).block_elements != 0) return cudaErrorInvalidValue;
  // Blocks are read with 16-bit loads: every field is 2-byte aligned when the rows are.
  if ((reinterpret_cast<uintptr_t>(weights) | static_cast<uintptr_t>(row_stride)) & 1) return cudaErrorMisalignedAddress;
  switch (f) {
    case WeightFormat::q8_0: cuq_launch_dequantize<CuqDequantQ8_0>(weights, row_stride, rows, cols, out, dtype, stream); break;
    case WeightFormat::q4_0: cuq_launch_dequantize<CuqDequantQ4_0>(weights, row_stride, rows, cols, out, dtype, stream); break;
    case WeightFormat::q4_k: cuq_launch_dequantize<CuqDequantQ4K>(weights, row_stride, rows, cols, out, dtype, stream); break;
    case WeightFormat::q6_k: cuq_launch_dequantize<CuqDequantQ6K>(weights, row_stride, rows, cols, out, dtype, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::quant::gpu
