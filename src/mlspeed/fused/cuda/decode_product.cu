// A decode step's product with 16-bit (or float32) weights, with the norm before it and the bias,
// GELU and residual add after it, in one kernel (fused_kernels.cuh's decode_product). Decoding a
// token of GPT-2 small or of a 16-bit Llama is a chain of products of one row with a matrix, each
// a few microseconds: cuBLAS's kernel, then a kernel for the bias, the activation or the residual
// add, then one for the next norm. Here the kernel boundary between them goes, and the product is
// launched as launch.cuh's kernels are (its weights on their way to L2 while the kernel before it
// finishes), which cuBLAS's are not.
//
// The norm: x's row is short (768 to 8192 values), so every thread block reads it whole, takes its
// statistics itself and keeps the normalised values in shared memory as float32, rounded to the
// dtype as LibTorch's norm writes them. No block waits on another; the redundant reads of x hit L2.
//
// Two layouts of the weight:
//   - (N, K), nn.Linear's (Llama's matrices, GPT-2's tied head): a warp takes kRowsPerWarp output
//     rows, each lane 8 consecutive values of each row at a time (16-byte loads, kUnroll of them in
//     flight a row), then a warp-shuffle sum; blocks loop over the row tiles.
//   - (K, N), GPT-2's Conv1D: a block takes kColumnGroups groups of 8 consecutive columns, its
//     threads splitting K into kSlices slices (each thread a 16-byte load a row of its slice), the
//     slices summed by shuffles within a warp, then across warps in shared memory.
// Every sum is float32; y = round(acc + bias), then round(gelu(y)), then residual = round(residual
// + y): where LibTorch's ops (addmm, gelu, add) round.
//
// Measured on an H100 (results/2026-12-06-h100-decode-product/): GPT-2 small's decode, which is
// bound by its kernels' count and latency, is 13% faster with it (gpt2-generate 6.86 ms against 7.91
// with cuBLAS's products and the separate kernels); Llama-2-7B's, bound by 13.5 GB of weights a
// token, was 16% slower through the (N, K) kernel than through cuBLAS's GEMVs, so a 16-bit Llama
// keeps cuBLAS's products (models/llama_fused_decode.cpp). The RMSNorm prologue is kept, tested, for
// a rows kernel that streams such weights as fast.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "mlspeed/fused/cuda/block_sum.cuh"
#include "mlspeed/fused/cuda/dtype_dispatch.cuh"
#include "mlspeed/fused/cuda/fused_kernels.cuh"
#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::fused::gpu {
namespace {

using quant::gpu::cuq_allow_successor;
using quant::gpu::cuq_launch_shared;
using quant::gpu::cuq_load;
using quant::gpu::cuq_load8;
using quant::gpu::cuq_prefetch_l2;
using quant::gpu::cuq_round;
using quant::gpu::cuq_store;
using quant::gpu::cuq_wait_for_predecessor;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kValues = 8;          // values of a 16-byte load (two for float32)
constexpr int kMaxBatch = 8;        // rows of x a launch takes; the launcher splits larger batches
constexpr int kStagedFloats = 8192;  // shared memory for the normalised rows: 32 KB
constexpr int kRowsPerWarp = 2;
constexpr int kUnroll = 4;
constexpr int kRowsPerBlock = kWarps * kRowsPerWarp;
constexpr int kColumnGroups = 4;  // 64 contiguous bytes of a 16-bit row a block
constexpr int kSlices = kThreads / kColumnGroups;
constexpr int kBlockColumns = kColumnGroups * kValues;

template <GpuDtype D>
__host__ __device__ constexpr int64_t dtype_bytes() {
  return D == GpuDtype::f32 ? 4 : 2;
}

__device__ __forceinline__ float product_gelu(float u) {  // tanh approximation, Hugging Face's gelu_new
  constexpr float kBeta = 0.7978845608028654f;              // sqrt(2 / pi)
  constexpr float kKappa = 0.044715f;
  return 0.5f * u * (1.0f + tanhf(kBeta * (u + kKappa * u * u * u)));
}

// The B rows of x into xs as float32, normalised by a.norm: every thread of the block takes part
// (the block sums wait for all), each holding the chunks of 8 values it loaded.
template <GpuDtype D, int B>
__device__ void product_stage_input(const DecodeProductArgs& a, float* xs) {
  const int64_t k = a.k;
  for (int b = 0; b < B && b < a.batch; ++b) {  // the same bound for the whole block
    float sum = 0.0f, squares = 0.0f;
    for (int64_t i = kValues * threadIdx.x; i < k; i += kValues * blockDim.x) {
      float v[kValues];
      cuq_load8<D>(a.x, b * k + i, v);
#pragma unroll
      for (int j = 0; j < kValues; ++j) {
        xs[b * k + i + j] = v[j];
        sum += v[j];
        squares += v[j] * v[j];
      }
    }
    if (a.norm == DecodeNorm::none) continue;
    float shift = 0.0f, scale;  // normed = (v - shift) scale gain + bias
    if (a.norm == DecodeNorm::rms) {
      scale = rsqrtf(fused_block_sum(squares) / static_cast<float>(k) + a.eps);
    } else {  // the mean, then the variance about it: as exact in float32 as LibTorch's Welford
      shift = fused_block_sum(sum) / static_cast<float>(k);
      float deviations = 0.0f;
      for (int64_t i = kValues * threadIdx.x; i < k; i += kValues * blockDim.x)
#pragma unroll
        for (int j = 0; j < kValues; ++j) deviations += (xs[b * k + i + j] - shift) * (xs[b * k + i + j] - shift);
      scale = rsqrtf(fused_block_sum(deviations) / static_cast<float>(k) + a.eps);
    }
    for (int64_t i = kValues * threadIdx.x; i < k; i += kValues * blockDim.x) {
      float gain[kValues], offset[kValues] = {};
      cuq_load8<D>(a.norm_weight, i, gain);
      if (a.norm_bias) cuq_load8<D>(a.norm_bias, i, offset);
#pragma unroll
      for (int j = 0; j < kValues; ++j)
        xs[b * k + i + j] =
            cuq_round<D>((xs[b * k + i + j] - shift) * scale * (gain[j] + a.gain_offset) + offset[j]);
    }
  }
}

// Values i..i + 7 of row b of the product's input: staged in shared memory, or x itself.
template <GpuDtype D, bool kStaged>
__device__ __forceinline__ void product_input8(const DecodeProductArgs& a, const float* xs, int64_t b, int64_t i,
                                               float (&v)[kValues]) {
  if constexpr (kStaged) {
    const float4* p = reinterpret_cast<const float4*>(xs + b * a.k + i);
    const float4 lo = p[0], hi = p[1];
    v[0] = lo.x, v[1] = lo.y, v[2] = lo.z, v[3] = lo.w, v[4] = hi.x, v[5] = hi.y, v[6] = hi.z, v[7] = hi.w;
  } else {
    cuq_load8<D>(a.x, b * a.k + i, v);
  }
}

template <GpuDtype D, bool kStaged>
__device__ __forceinline__ float product_input(const DecodeProductArgs& a, const float* xs, int64_t b, int64_t i) {
  if constexpr (kStaged) return xs[b * a.k + i];
  return cuq_load<D>(a.x, b * a.k + i);
}

// Element (b, n) of the output from its float32 sum.
template <GpuDtype D>
__device__ __forceinline__ void product_epilogue(const DecodeProductArgs& a, int64_t b, int64_t n, float acc) {
  float y = cuq_round<D>(a.bias ? acc + a.bias_times * cuq_load<D>(a.bias, n) : acc);
  if (a.gelu) y = cuq_round<D>(product_gelu(y));
  const int64_t at = b * a.n + n;
  if (a.residual) {
    cuq_store<D>(a.residual, at, cuq_load<D>(a.residual, at) + y);
  } else {
    cuq_store<D>(a.out, at, y);
  }
}

template <GpuDtype D, int B, bool kStaged>
__global__ void __launch_bounds__(kThreads) product_rows_kernel(const DecodeProductArgs a) {
  extern __shared__ float xs[];
  const int warp = static_cast<int>(threadIdx.x >> 5), lane = static_cast<int>(threadIdx.x & 31);
  const int64_t chunks = a.k / kValues, tiles = (a.n + kRowsPerBlock - 1) / kRowsPerBlock;
  const int64_t row_bytes = a.k * dtype_bytes<D>();
  {  // the weights depend on no kernel before this one (launch.cuh): the first tile's on its way to L2
    const int64_t row0 = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + warp * kRowsPerWarp;
    for (int r = 0; r < kRowsPerWarp && row0 + r < a.n; ++r)
      for (int64_t at = 128 * lane; at < row_bytes; at += 32 * 128)
        cuq_prefetch_l2(static_cast<const uint8_t*>(a.weight) + (row0 + r) * row_bytes + at);
  }
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if constexpr (kStaged) {
    product_stage_input<D, B>(a, xs);
    __syncthreads();
  }
  for (int64_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {
    const int64_t row0 = tile * kRowsPerBlock + warp * kRowsPerWarp;
    if (row0 >= a.n) break;  // the whole warp; no barrier follows
    int64_t row[kRowsPerWarp];  // a row past the last reads the last, and its sums are dropped
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) row[r] = min(row0 + r, a.n - 1);
    float acc[B][kRowsPerWarp] = {};
    for (int64_t c0 = lane; c0 < chunks; c0 += 32 * kUnroll) {
      float w[kUnroll][kRowsPerWarp][kValues];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r)
          if (c0 + 32 * u < chunks) cuq_load8<D>(a.weight, row[r] * a.k + kValues * (c0 + 32 * u), w[u][r]);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        if (c0 + 32 * u >= chunks) break;
#pragma unroll
        for (int b = 0; b < B; ++b) {
          if (b >= a.batch) break;
          float x[kValues];
          product_input8<D, kStaged>(a, xs, b, kValues * (c0 + 32 * u), x);
#pragma unroll
          for (int r = 0; r < kRowsPerWarp; ++r)
#pragma unroll
            for (int j = 0; j < kValues; ++j) acc[b][r] += w[u][r][j] * x[j];
        }
      }
    }
#pragma unroll
    for (int b = 0; b < B; ++b)
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r)
        for (int o = 16; o > 0; o >>= 1) acc[b][r] += __shfl_xor_sync(0xFFFFFFFFu, acc[b][r], o);
    if (lane != 0) continue;
    for (int b = 0; b < B && b < a.batch; ++b)
      for (int r = 0; r < kRowsPerWarp && row0 + r < a.n; ++r) product_epilogue<D>(a, b, row0 + r, acc[b][r]);
  }
}

template <GpuDtype D, int B, bool kStaged>
__global__ void __launch_bounds__(kThreads) product_columns_kernel(const DecodeProductArgs a) {
  extern __shared__ float xs[];
  __shared__ float partial[kWarps][B][kBlockColumns];
  const int warp = static_cast<int>(threadIdx.x >> 5), lane = static_cast<int>(threadIdx.x & 31);
  const int group = static_cast<int>(threadIdx.x % kColumnGroups);
  const int slice = static_cast<int>(threadIdx.x / kColumnGroups);
  const int64_t column = static_cast<int64_t>(blockIdx.x) * kBlockColumns + kValues * group;
  const bool active = column < a.n;
  if (active && group == 0)  // the block's 64 (128) bytes of each row of the slice
    for (int64_t r = slice; r < a.k; r += kSlices)
      cuq_prefetch_l2(static_cast<const uint8_t*>(a.weight) + (r * a.n + column) * dtype_bytes<D>());
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if constexpr (kStaged) {
    product_stage_input<D, B>(a, xs);
    __syncthreads();
  }
  float acc[B][kValues] = {};
  if (active) {
#pragma unroll 4
    for (int64_t r = slice; r < a.k; r += kSlices) {
      float w[kValues];
      cuq_load8<D>(a.weight, r * a.n + column, w);
#pragma unroll
      for (int b = 0; b < B; ++b) {
        if (b >= a.batch) break;
        const float x = product_input<D, kStaged>(a, xs, b, r);
#pragma unroll
        for (int j = 0; j < kValues; ++j) acc[b][j] += x * w[j];
      }
    }
  }
  // The lanes of a warp that share a group (lane mod kColumnGroups) hold 8 of its slices.
#pragma unroll
  for (int b = 0; b < B; ++b)
#pragma unroll
    for (int j = 0; j < kValues; ++j)
      for (int o = kColumnGroups; o < 32; o <<= 1) acc[b][j] += __shfl_xor_sync(0xFFFFFFFFu, acc[b][j], o);
  if (lane < kColumnGroups)
#pragma unroll
    for (int b = 0; b < B; ++b)
#pragma unroll
      for (int j = 0; j < kValues; ++j) partial[warp][b][kValues * lane + j] = acc[b][j];
  __syncthreads();
  for (int o = static_cast<int>(threadIdx.x); o < B * kBlockColumns; o += kThreads) {
    const int b = o / kBlockColumns, c = o % kBlockColumns;
    const int64_t n = static_cast<int64_t>(blockIdx.x) * kBlockColumns + c;
    if (b >= a.batch || n >= a.n) continue;
    float sum = 0.0f;
    for (int p = 0; p < kWarps; ++p) sum += partial[p][b][c];  // in order: the same sum every run
    product_epilogue<D>(a, b, n, sum);
  }
}

// The current device's multiprocessors: a query of the device's attributes, not a stream operation,
// so a CUDA graph being recorded does not mind it.
int product_multiprocessors() {
  int device = 0, sms = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess || sms <= 0)
    return 132;  // an H100's or H200's
  return sms;
}

template <GpuDtype D, int B>
void product_launch(const DecodeProductArgs& a, cudaStream_t stream) {
  const bool staged = a.norm != DecodeNorm::none;
  const auto shared = static_cast<size_t>(staged ? B * a.k * static_cast<int64_t>(sizeof(float)) : 0);
  if (a.in_by_out) {
    const auto grid = static_cast<unsigned>((a.n + kBlockColumns - 1) / kBlockColumns);
    const auto kernel = staged ? product_columns_kernel<D, B, true> : product_columns_kernel<D, B, false>;
    cuq_launch_shared(kernel, grid, kThreads, shared, stream, a);
  } else {
    // Enough blocks to fill the device several times over; more tiles loop (GPT-2's head: 3142).
    const int64_t tiles = (a.n + kRowsPerBlock - 1) / kRowsPerBlock;
    const auto grid = static_cast<unsigned>(std::min<int64_t>(tiles, 8 * product_multiprocessors()));
    const auto kernel = staged ? product_rows_kernel<D, B, true> : product_rows_kernel<D, B, false>;
    cuq_launch_shared(kernel, grid, kThreads, shared, stream, a);
  }
}

template <GpuDtype D>
void product_for_batch(const DecodeProductArgs& a, cudaStream_t stream) {
  if (a.batch <= 1) product_launch<D, 1>(a, stream);
  else if (a.batch <= 2) product_launch<D, 2>(a, stream);
  else if (a.batch <= 4) product_launch<D, 4>(a, stream);
  else product_launch<D, kMaxBatch>(a, stream);
}

// The rows of x one launch takes: kMaxBatch, fewer where their normalised values must fit in
// shared memory.
int64_t product_rows_per_launch(int64_t k, DecodeNorm norm) {
  return norm == DecodeNorm::none ? kMaxBatch : std::min<int64_t>(kMaxBatch, kStagedFloats / k);
}

}  // namespace

bool decode_product_supports(int64_t k, int64_t n, DecodeNorm norm, bool in_by_out) {
  return k > 0 && n > 0 && k % kValues == 0 && (!in_by_out || n % kValues == 0) &&
         product_rows_per_launch(k, norm) >= 1;
}

cudaError_t decode_product(const DecodeProductArgs& args, cudaStream_t stream) {
  if (args.batch <= 0 || !decode_product_supports(args.k, args.n, args.norm, args.in_by_out) || !args.x ||
      !args.weight || (args.norm != DecodeNorm::none && !args.norm_weight) || (!args.residual && !args.out))
    return cudaErrorInvalidValue;
  const int64_t step = product_rows_per_launch(args.k, args.norm);
  fused_dispatch(args.dtype, [&](auto d) {
    constexpr GpuDtype D = decltype(d)::value;
    const auto at = [](const void* p, int64_t elements) {
      return p ? static_cast<const uint8_t*>(p) + elements * dtype_bytes<D>() : nullptr;
    };
    for (int64_t first = 0; first < args.batch; first += step) {  // each launch's rows of x and of the output
      DecodeProductArgs part = args;
      part.batch = std::min(step, args.batch - first);
      part.x = at(args.x, first * args.k);
      part.residual = const_cast<uint8_t*>(at(args.residual, first * args.n));
      part.out = const_cast<uint8_t*>(at(args.out, first * args.n));
      product_for_batch<D>(part, stream);
    }
  });
  return cudaGetLastError();
}

}  // namespace mlspeed::fused::gpu
