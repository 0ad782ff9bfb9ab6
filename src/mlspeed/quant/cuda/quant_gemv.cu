// Matrix-vector products over quantised weights (q8_0, q4_0, q4_k, q6_k) for decoding: a few
// input vectors (n <= kGemvMaxRows), every weight byte read from memory once for all of them.
//
// Two kernels, as llama.cpp's mmvq:
//   1. quantize_gemv_input: x to int8 per run of 32 values (GemvInput), one warp a run. The
//      products then multiply integers with __dp4a (4 int8 products and a sum in one
//      instruction): dequantising each weight to float and multiplying n vectors in fp32 would
//      cost n + 2 instructions a weight, more than the memory system delivers weights on an H100
//      or H200 for n > 1; __dp4a costs n / 4 a weight. The error is the input's rounding, at most
//      max|x| / 254 of its run a value (quant/cpu_kernels.h's contract, and llama.cpp's). The
//      fused kernels of a decode step (fused/) write the same GemvInput from their own outputs.
//   2. gemv: one warp, or `split` warps of a thread block, for R consecutive weight rows (R = 2 for
//      one or two vectors, else 4: each input value loaded serves R rows). Lane l of part p takes
//      units 32 p + l, 32 (p + split) + l, ... of the rows (a unit: a block, or a quarter of a
//      256-value K-quant block). Where the rows start on 16-byte boundaries (Llama's matrices do),
//      a lane reads its unit's bytes as the aligned 16-byte chunks that hold them (CuqBlockChunks;
//      a q4_k block is 16-byte aligned itself; not q6_k, whose 210-byte blocks read as chunks took
//      up to 14% more time than as words on an H100), else as aligned 32-bit words (CuqBlockWords),
//      picking the bytes out with byte permutes: the GGUF blocks are 18, 34, 144 or 210 bytes, so a
//      block starts at any even address. Both beat the first design, which staged windows of each
//      row through shared memory with cp.async (20-25% less time for Llama-2-7B's Q4_0 matrices on
//      an H200). Each lane unpacks its quants in registers (4 a 32-bit word) and accumulates in
//      fp32, per vector and row, the block scale times the input scale times the integer dot
//      product. A warp-shuffle reduction ends each row (and shared memory the parts of a split
//      row); lane 0 of the first part writes the n products of its rows, plus the matching element
//      of `add` when given (the residual connection of a decode step, one kernel fewer).
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <type_traits>

#include "mlspeed/quant/cuda/cuda_values.cuh"
#include "mlspeed/quant/cuda/gemv_input.cuh"
#include "mlspeed/quant/cuda/launch.cuh"
#include "mlspeed/quant/cuda/quant_kernels.cuh"

namespace mlspeed::quant::gpu {
namespace {

constexpr int kCuqRun = kGemvInputRun;
constexpr unsigned kCuqFullMask = 0xFFFFFFFFu;

// ---- 1. the input ------------------------------------------------------------------------------

template <GpuDtype D>
__global__ void __launch_bounds__(256) cuq_quantize_input_kernel(const void* x, int64_t n, int64_t cols,
                                                                 int64_t row_stride, int64_t col_stride, int8_t* q,
                                                                 float* d, int32_t* sum) {
  const int64_t run = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  const int64_t runs_per_row = cols / kCuqRun;
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if (run >= n * runs_per_row) return;  // the same for the whole warp
  const int64_t v = run / runs_per_row, c = (run % runs_per_row) * kCuqRun + lane;
  cuq_write_input_run(cuq_load<D>(x, v * row_stride + c * col_stride), lane, run, q, d, sum);
}

// ---- 2. reading a row's bytes ------------------------------------------------------------------

// The 4 bytes at any byte offset of a row (`base` 4-byte aligned): one or two aligned loads, never
// a word that holds none of the 4 bytes (a row may end at the end of an allocation).
__device__ __forceinline__ uint32_t cuq_word_at(const uint8_t* base, int offset) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(base) + (offset >> 2);
  const int shift = offset & 3;
  const uint32_t low = __ldg(w), high = shift ? __ldg(w + 1) : low;
  return __byte_perm(low, high, 0x3210 + 0x1111 * shift);
}

// K consecutive 4-byte words from any byte offset: K or K + 1 aligned loads and K byte permutes.
template <int K>
__device__ __forceinline__ void cuq_words_at(const uint8_t* base, int offset, uint32_t (&out)[K]) {
  const uint32_t* w = reinterpret_cast<const uint32_t*>(base) + (offset >> 2);
  const int shift = offset & 3;
  const unsigned selector = 0x3210 + 0x1111 * shift;
  uint32_t low = __ldg(w);
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const uint32_t high = (k + 1 < K || shift) ? __ldg(w + k + 1) : low;
    out[k] = __byte_perm(low, high, selector);
    low = high;
  }
}

// A whole block of kBytes bytes (kBytes % 4 == 2: q4_0's 18, q8_0's 34) at byte `at` of a row
// (`base` 4-byte aligned), as the aligned words that hold it: one load each, every word loaded
// once, the last one only when the block reaches into it. Reading the scale and the quants apart
// (cuq_word_at, cuq_words_at) loaded the word they share twice and branched on the alignment:
// measured on an H100, this takes 6-7% less time for Q4_0 14336 x 4096 and 4096 x 14336
// (13.95 against 14.92 us, 14.63 against 15.78), the same at 4096 x 4096.
template <int kBytes>
struct CuqBlockWords {
  static constexpr int kWords = (kBytes + 3) / 4 + 1;
  static_assert(kBytes % 4 == 2, "every word but the last always holds bytes of the block");
  uint32_t w[kWords];
  int shift;  // the block's first byte in w[0]

  __device__ __forceinline__ CuqBlockWords(const uint8_t* base, int at) : shift(at & 3) {
    const uint32_t* p = reinterpret_cast<const uint32_t*>(base) + (at >> 2);
#pragma unroll
    for (int k = 0; k + 1 < kWords; ++k) w[k] = __ldg(p + k);
    w[kWords - 1] = shift + kBytes > 4 * (kWords - 1) ? __ldg(p + kWords - 1) : 0;
  }

  // Bytes offset..offset + 3 of the block (offset a compile-time constant once unrolled).
  __device__ __forceinline__ uint32_t at(int offset) const {
    const int first = offset >> 2;
    const bool next = ((shift + (offset & 3)) >> 2) != 0;
    const uint32_t low = next ? w[first + 1] : w[first];
    const uint32_t high = next ? w[min(first + 2, kWords - 1)] : w[first + 1];
    return __byte_perm(low, high, 0x3210 + 0x1111 * ((shift + offset) & 3));
  }
};

// The same block read as the aligned 16-byte chunks that hold it, when the row starts on a 16-byte
// boundary and its blocks start at even bytes (q4_0, q8_0: 18 and 34 bytes, so every block lies in
// 2 or 3 chunks). The L1 cache serves a warp's access one 128-byte line at a time: with 4-byte
// words a warp reading 32 consecutive blocks touches 5 lines an instruction for 128 bytes, 6
// instructions a block; with 16-byte chunks, 2 or 3 instructions. On an H200 this did not change
// a Llama-2-7B Q4_0 decode step (311.6 against 310.6 ms for 128 tokens), where the products
// overlap the kernels around them; the 16-byte reads of a q4_k block (CuqQ4K) took its 14336 x
// 4096 product from 19.9 us (an earlier lease) to 16.1. The lane's start within its first chunk
// (0-14) is undone in registers: a word shift by selects, then 2-byte shifts by byte permutes.
template <int kBytes>
struct CuqBlockChunks {
  static_assert(kBytes % 4 == 2, "a block starting at an even byte, ending in its last chunk");
  static constexpr int kChunks = (kBytes + 14 + 15) / 16;
  static constexpr int kWords = (kBytes + 2 + 3) / 4;  // from the word holding the block's first byte
  uint32_t w[kWords];
  uint32_t even_selector, odd_selector;  // the byte permutes for a block offset = 0 or 2 (mod 4)

  __device__ __forceinline__ CuqBlockChunks(const uint8_t* base, int at) {
    const uint4* p = reinterpret_cast<const uint4*>(base + (at & ~15));
    uint32_t raw[4 * kChunks];
#pragma unroll
    for (int c = 0; c < kChunks; ++c) {
      const uint4 v = __ldg(p + c);
      raw[4 * c] = v.x, raw[4 * c + 1] = v.y, raw[4 * c + 2] = v.z, raw[4 * c + 3] = v.w;
    }
    const int shift = (at >> 2) & 3;  // the words before the block's first word
    uint32_t once[kWords + 2];
#pragma unroll
    for (int k = 0; k < kWords + 2; ++k) once[k] = (shift & 1) ? raw[k + 1] : raw[k];
#pragma unroll
    for (int k = 0; k < kWords; ++k) w[k] = (shift & 2) ? once[k + 2] : once[k];
    even_selector = (at & 2) ? 0x5432 : 0x3210;
    odd_selector = (at & 2) ? 0x7654 : 0x5432;
  }

  // Bytes offset..offset + 3 of the block (offset even, a compile-time constant once unrolled).
  __device__ __forceinline__ uint32_t at(int offset) const {
    const int k = offset >> 2;
    return __byte_perm(w[k], w[min(k + 1, kWords - 1)], (offset & 2) ? odd_selector : even_selector);
  }
};

// sum_k of the 4 int8 products of w[k] and the k-th word of x, for the 16 values of one int4.
__device__ __forceinline__ int cuq_dot16(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3, int4 x, int acc) {
  acc = __dp4a(static_cast<int>(w0), x.x, acc);
  acc = __dp4a(static_cast<int>(w1), x.y, acc);
  acc = __dp4a(static_cast<int>(w2), x.z, acc);
  return __dp4a(static_cast<int>(w3), x.w, acc);
}

__device__ __forceinline__ int4 cuq_input16(const GemvInput& x, int64_t i) {
  return __ldg(reinterpret_cast<const int4*>(x.q + i));
}

constexpr uint32_t kCuqLowNibbles = 0x0F0F0F0Fu;

// ---- the formats: a unit of a block, its weights (Weights), its inputs (Input), their product ----

// q8_0: fp16 d, int8 q[32]; a unit is the block.
struct CuqQ8_0 {
  static constexpr int kBytes = 34, kValues = 32, kUnits = 1;
  static constexpr int kSplit = 4;  // warps a row for one or two vectors (cuq_split)
  struct Weights {
    float d;
    uint32_t q[8];
  };
  struct Input {
    int4 a, b;
    float d;
  };
  __device__ static int unit_offset(int) { return 0; }
  template <bool kAligned>
  __device__ static void load(const uint8_t* s, int at, int, Weights& w) {
    const std::conditional_t<kAligned, CuqBlockChunks<kBytes>, CuqBlockWords<kBytes>> block(s, at);
    w.d = cuq_half_bits_to_float(block.at(0));
#pragma unroll
    for (int k = 0; k < 8; ++k) w.q[k] = block.at(2 + 4 * k);
  }
  __device__ static Input input(const GemvInput& x, int64_t i) {
    return {cuq_input16(x, i), cuq_input16(x, i + 16), __ldg(x.d + i / kCuqRun)};
  }
  __device__ static float dot(const Weights& w, const Input& in) {
    const int sum = cuq_dot16(w.q[4], w.q[5], w.q[6], w.q[7], in.b, cuq_dot16(w.q[0], w.q[1], w.q[2], w.q[3], in.a, 0));
    return w.d * in.d * static_cast<float>(sum);
  }
};

// q4_0: fp16 d, q[16] (value j in the low nibble of byte j, j + 16 in its high nibble); x = d (q - 8).
struct CuqQ4_0 {
  static constexpr int kBytes = 18, kValues = 32, kUnits = 1;
  static constexpr int kSplit = 4;
  struct Weights {
    float d;
    uint32_t q[4];
  };
  struct Input {
    int4 a, b;
    float d;
    int sum;
  };
  __device__ static int unit_offset(int) { return 0; }
  template <bool kAligned>
  __device__ static void load(const uint8_t* s, int at, int, Weights& w) {
    const std::conditional_t<kAligned, CuqBlockChunks<kBytes>, CuqBlockWords<kBytes>> block(s, at);
    w.d = cuq_half_bits_to_float(block.at(0));
#pragma unroll
    for (int k = 0; k < 4; ++k) w.q[k] = block.at(2 + 4 * k);
  }
  __device__ static Input input(const GemvInput& x, int64_t i) {
    return {cuq_input16(x, i), cuq_input16(x, i + 16), __ldg(x.d + i / kCuqRun), __ldg(x.sum + i / kCuqRun)};
  }
  __device__ static float dot(const Weights& w, const Input& in) {
    const uint32_t* q = w.q;
    int sum = cuq_dot16(q[0] & kCuqLowNibbles, q[1] & kCuqLowNibbles, q[2] & kCuqLowNibbles, q[3] & kCuqLowNibbles,
                        in.a, 0);
    sum = cuq_dot16((q[0] >> 4) & kCuqLowNibbles, (q[1] >> 4) & kCuqLowNibbles, (q[2] >> 4) & kCuqLowNibbles,
                    (q[3] >> 4) & kCuqLowNibbles, in.b, sum);
    return w.d * in.d * static_cast<float>(sum - 8 * in.sum);
  }
};

// Byte i (0-11) of the 12 scale bytes of a q4_k block, held as 3 words: selects, not an index
// into the array, which would move it to local memory.
__device__ __forceinline__ int cuq_scale_byte(const uint32_t (&w)[3], int i) {
  const uint32_t word = i < 4 ? w[0] : (i < 8 ? w[1] : w[2]);
  return static_cast<int>((word >> (8 * (i & 3))) & 0xFF);
}

// blocks.h's q4k_scale_min (ggml's get_scale_min_k4).
__device__ __forceinline__ void cuq_q4k_scale_min(const uint32_t (&w)[3], int j, int& sc, int& m) {
  if (j < 4) {
    sc = cuq_scale_byte(w, j) & 63;
    m = cuq_scale_byte(w, j + 4) & 63;
  } else {
    sc = (cuq_scale_byte(w, j + 4) & 0xF) | ((cuq_scale_byte(w, j - 4) >> 6) << 4);
    m = (cuq_scale_byte(w, j + 4) >> 4) | ((cuq_scale_byte(w, j) >> 6) << 4);
  }
}

// q4_k: fp16 d, dmin; 12 bytes of 6-bit scales and mins; q[128]. A unit is a chunk of 64
// values: 32 bytes whose low nibbles are sub-block 2c and high nibbles sub-block 2c + 1;
// x = d sc q - dmin m.
struct CuqQ4K {
  static constexpr int kBytes = 144, kValues = 256, kUnits = 4;
  static constexpr int kSplit = 2;
  struct Weights {
    float d_lo, d_hi, min_lo, min_hi;  // d sc and dmin m of the two sub-blocks
    uint32_t q[8];
  };
  struct Input {
    int4 x[4];
    float d_lo, d_hi;
    int sum_lo, sum_hi;
  };
  __device__ static int unit_offset(int unit) { return 64 * unit; }
  // kAligned: the block starts on a 16-byte boundary (144 bytes, in a row that does): its header
  // (d, dmin, the scales) is one 16-byte load and the unit's quants two.
  template <bool kAligned>
  __device__ static void load(const uint8_t* s, int at, int unit, Weights& w) {
    uint32_t scales_d, packed[3];
    if constexpr (kAligned) {
      const uint4* p = reinterpret_cast<const uint4*>(s + at);
      const uint4 header = __ldg(p), low = __ldg(p + 1 + 2 * unit), high = __ldg(p + 2 + 2 * unit);
      scales_d = header.x, packed[0] = header.y, packed[1] = header.z, packed[2] = header.w;
      w.q[0] = low.x, w.q[1] = low.y, w.q[2] = low.z, w.q[3] = low.w;
      w.q[4] = high.x, w.q[5] = high.y, w.q[6] = high.z, w.q[7] = high.w;
    } else {
      scales_d = cuq_word_at(s, at);
      cuq_words_at<3>(s, at + 4, packed);
      cuq_words_at<8>(s, at + 16 + 32 * unit, w.q);
    }
    const float d = cuq_half_bits_to_float(scales_d), dmin = cuq_half_bits_to_float(scales_d >> 16);
    int sc_lo, m_lo, sc_hi, m_hi;
    cuq_q4k_scale_min(packed, 2 * unit, sc_lo, m_lo);
    cuq_q4k_scale_min(packed, 2 * unit + 1, sc_hi, m_hi);
    w.d_lo = d * static_cast<float>(sc_lo);
    w.d_hi = d * static_cast<float>(sc_hi);
    w.min_lo = dmin * static_cast<float>(m_lo);
    w.min_hi = dmin * static_cast<float>(m_hi);
  }
  __device__ static Input input(const GemvInput& x, int64_t i) {
    const int64_t run = i / kCuqRun;
    return {{cuq_input16(x, i), cuq_input16(x, i + 16), cuq_input16(x, i + 32), cuq_input16(x, i + 48)},
            __ldg(x.d + run), __ldg(x.d + run + 1), __ldg(x.sum + run), __ldg(x.sum + run + 1)};
  }
  __device__ static float dot(const Weights& w, const Input& in) {
    const uint32_t* q = w.q;
    int lo = cuq_dot16(q[0] & kCuqLowNibbles, q[1] & kCuqLowNibbles, q[2] & kCuqLowNibbles, q[3] & kCuqLowNibbles,
                       in.x[0], 0);
    lo = cuq_dot16(q[4] & kCuqLowNibbles, q[5] & kCuqLowNibbles, q[6] & kCuqLowNibbles, q[7] & kCuqLowNibbles,
                   in.x[1], lo);
    int hi = cuq_dot16((q[0] >> 4) & kCuqLowNibbles, (q[1] >> 4) & kCuqLowNibbles, (q[2] >> 4) & kCuqLowNibbles,
                       (q[3] >> 4) & kCuqLowNibbles, in.x[2], 0);
    hi = cuq_dot16((q[4] >> 4) & kCuqLowNibbles, (q[5] >> 4) & kCuqLowNibbles, (q[6] >> 4) & kCuqLowNibbles,
                   (q[7] >> 4) & kCuqLowNibbles, in.x[3], hi);
    return in.d_lo * (w.d_lo * static_cast<float>(lo) - w.min_lo * static_cast<float>(in.sum_lo)) +
           in.d_hi * (w.d_hi * static_cast<float>(hi) - w.min_hi * static_cast<float>(in.sum_hi));
  }
};

// q6_k: ql[128], qh[64], int8 scales[16], fp16 d. Each half h of 128 values holds 4 runs of 32
// (blocks.cpp's dequantize_q6_k): run k, value l from ql[64h + l + 32 (k & 1)] (low nibble for
// k < 2, high for k >= 2) and bits 2k, 2k+1 of qh[32h + l], scale scales[8h + l / 16 + 2k]. A
// unit is (h, g): values l = 16g..16g+15 of all 4 runs of half h, 16 bytes each of ql, ql + 32
// and qh; q - 32 is formed per byte in registers.
struct CuqQ6K {
  static constexpr int kBytes = 210, kValues = 256, kUnits = 4;
  static constexpr int kSplit = 2;
  struct Weights {
    float d;
    float sc[4];
    uint32_t q[4][4];  // run k, word t: values 16g + 4t.. of run k, minus 32, as int8
  };
  struct Input {
    int4 x[4];  // run k: 16 values
    float d[4];
  };
  __device__ static int unit_offset(int unit) { return 128 * (unit >> 1) + 16 * (unit & 1); }
  template <bool kAligned>  // 210-byte blocks: read as words however the row is aligned
  __device__ static void load(const uint8_t* s, int at, int unit, Weights& w) {
    const int h = unit >> 1, g = unit & 1;
    uint32_t ql_a[4], ql_b[4], qh[4], scales[2];
    cuq_words_at<4>(s, at + 64 * h + 16 * g, ql_a);
    cuq_words_at<4>(s, at + 64 * h + 32 + 16 * g, ql_b);
    cuq_words_at<4>(s, at + 128 + 32 * h + 16 * g, qh);
    cuq_words_at<2>(s, at + 192 + 8 * h + g, scales);  // bytes 0, 2, 4, 6: runs 0-3
    w.d = cuq_half_bits_to_float(cuq_word_at(s, at + 208));
#pragma unroll
    for (int k = 0; k < 4; ++k)
      w.sc[k] = static_cast<float>(static_cast<int8_t>((scales[k >> 1] >> (16 * (k & 1))) & 0xFF));
    constexpr uint32_t kHigh2 = 0x30303030u, kMinus32 = 0x20202020u;
#pragma unroll
    for (int t = 0; t < 4; ++t) {
      w.q[0][t] = __vsub4((ql_a[t] & kCuqLowNibbles) | ((qh[t] << 4) & kHigh2), kMinus32);
      w.q[1][t] = __vsub4((ql_b[t] & kCuqLowNibbles) | ((qh[t] << 2) & kHigh2), kMinus32);
      w.q[2][t] = __vsub4(((ql_a[t] >> 4) & kCuqLowNibbles) | (qh[t] & kHigh2), kMinus32);
      w.q[3][t] = __vsub4(((ql_b[t] >> 4) & kCuqLowNibbles) | ((qh[t] >> 2) & kHigh2), kMinus32);
    }
  }
  __device__ static Input input(const GemvInput& x, int64_t i) {
    Input in;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      in.x[k] = cuq_input16(x, i + 32 * k);
      in.d[k] = __ldg(x.d + (i + 32 * k) / kCuqRun);
    }
    return in;
  }
  __device__ static float dot(const Weights& w, const Input& in) {
    float total = 0.0f;
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const int sum = cuq_dot16(w.q[k][0], w.q[k][1], w.q[k][2], w.q[k][3], in.x[k], 0);
      total += w.sc[k] * in.d[k] * static_cast<float>(sum);
    }
    return w.d * total;
  }
};

// ---- the product -------------------------------------------------------------------------------

// Warps of one thread block (4: measured best on the H200 beside 2 and 8 for Llama's matrices).
// Loading 2, 4 or 8 units of a row before multiplying any changed the time of Llama-2-7B's Q4_0
// matrices by under 5% either way on an H100: one at a time.
constexpr int kCuqWarps = 4;

// Rows of one warp for N vectors: each input value loaded serves R rows, and a warp has R rows'
// loads in flight. Two for one vector, measured on an H200 against one (with the chunk loads):
// 4.87 against 5.54 us for Q4_0 4096 x 4096, 10.68 against 12.77 us for 14336 x 4096, and a
// Llama-2-7B Q4_0 token 2.7% faster; the qkv product (12288 rows) then fits the GPU's thread
// blocks in one wave instead of 1.45.
template <int N>
constexpr int kCuqRows = N <= 2 ? 2 : 4;

// `split` warps of a thread block share R rows, each taking every split-th run of 32 units (split =
// 1, 2 or kCuqWarps): a lane then takes a split-th of the units one after another, and more of a
// row's loads are in flight at once (cuq_split says when that pays).
template <class F, int N, int R, GpuDtype D, bool kAligned>
__global__ void __launch_bounds__(kCuqWarps * 32)
    cuq_gemv_kernel(const uint8_t* __restrict__ weights, int64_t row_stride, int rows, int blocks_per_row,
                    GemvInput x, int64_t cols, int n, int split, const void* add, void* y) {
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int part = warp % split;
  const int row0 = (blockIdx.x * (kCuqWarps / split) + warp / split) * R;
  const int row_bytes = blocks_per_row * F::kBytes;
  // The weights depend on no kernel before this one (launch.cuh): on their way to L2 while it
  // finishes.
  for (int i = 0; i < R && row0 + i < rows; ++i) {
    const uint8_t* row = weights + static_cast<int64_t>(row0 + i) * row_stride;
    for (int at = 128 * (lane + 32 * part); at < row_bytes; at += 128 * 32 * split) cuq_prefetch_l2(row + at);
  }
  cuq_wait_for_predecessor();
  cuq_allow_successor();
  if (split == 1 && row0 >= rows) return;  // the whole warp, and no block-wide barrier follows
  // Each row from the 4-byte word holding its first byte (kAligned: rows start on 16-byte
  // boundaries); a row past the last reads the last (valid memory) and its products are dropped.
  const uint8_t* base[R];
  int misalignment[R];
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const auto start = reinterpret_cast<uintptr_t>(weights + min(row0 + i, rows - 1) * row_stride);
    base[i] = reinterpret_cast<const uint8_t*>(start & ~uintptr_t{3});
    misalignment[i] = static_cast<int>(start & 3);
  }
  float acc[N][R] = {};
  const int units = blocks_per_row * F::kUnits;
  for (int u = lane + 32 * part; u < units; u += 32 * split) {
    const int block = u / F::kUnits, unit = u % F::kUnits;
    typename F::Weights w[R];
#pragma unroll
    for (int i = 0; i < R; ++i)
      F::template load<kAligned>(base[i], misalignment[i] + block * F::kBytes, unit, w[i]);
    const int64_t value = static_cast<int64_t>(block) * F::kValues + F::unit_offset(unit);
#pragma unroll
    for (int v = 0; v < N; ++v) {
      if (v < n) {
        const typename F::Input in = F::input(x, v * cols + value);
#pragma unroll
        for (int i = 0; i < R; ++i) acc[v][i] += F::dot(w[i], in);
      }
    }
  }
#pragma unroll
  for (int v = 0; v < N; ++v) {
#pragma unroll
    for (int i = 0; i < R; ++i)
      for (int o = 16; o > 0; o >>= 1) acc[v][i] += __shfl_xor_sync(kCuqFullMask, acc[v][i], o);
  }
  if (split > 1) {  // the parts of a row meet in shared memory; the first part adds them in order
    __shared__ float partial[kCuqWarps][N][R];
    if (lane == 0) {
#pragma unroll
      for (int v = 0; v < N; ++v) {
#pragma unroll
        for (int i = 0; i < R; ++i) partial[warp][v][i] = acc[v][i];
      }
    }
    __syncthreads();
    if (part != 0) return;
#pragma unroll
    for (int v = 0; v < N; ++v) {
#pragma unroll
      for (int i = 0; i < R; ++i) {
        for (int p = 1; p < split; ++p) acc[v][i] += partial[warp + p][v][i];
      }
    }
  }
  if (lane != 0) return;
#pragma unroll
  for (int v = 0; v < N; ++v) {
#pragma unroll
    for (int i = 0; i < R; ++i) {
      const int64_t at = static_cast<int64_t>(v) * rows + row0 + i;
      if (v < n && row0 + i < rows) cuq_store<D>(y, at, add ? acc[v][i] + cuq_load<D>(add, at) : acc[v][i]);
    }
  }
}

// MLSPEED_GEMV_SPLIT=1, 2 or 4 fixes the split of every product (to measure the choice below);
// read once per process. 0: chosen by shape.
int cuq_split_from_environment() {
  const char* value = std::getenv("MLSPEED_GEMV_SPLIT");
  if (!value) return 0;
  const int split = std::atoi(value);
  return split == 1 || split == 2 || split == kCuqWarps ? split : 0;
}

// The split of a product over rows of `units` units for n vectors. Measured on an H100 with
// Llama-2-7B's matrices read from memory (QuantKernelsGpu.ReportsTheWeightBandwidthOfTheProduct,
// every split forced in turn), what decides it is how many units a lane takes one after another:
//   - one or two vectors: F::kSplit. q4_0 and q8_0 (a unit is a block: 18 or 34 bytes) took the
//     least time split over 4 warps at every shape (q4_0 4096 x 4096: 6.76 us against 8.44 unsplit,
//     4096 x 11008: 14.04 against 17.73; 22016 x 4096: 20.73 against 24.38); q4_k and q6_k (a unit
//     is a quarter of a 144- or 210-byte block: 48 bytes or more) over 2 (q4_k 12288 x 4096: 15.60
//     us against 16.64 unsplit and 16.73 over 4; q6_k, read as 16-byte chunks then, 25.24 against
//     27.26 and 27.92). Llama-2-7B Q4_0 tg128: 445 tokens/s
//     unsplit, 469 over 2, 486 over 4.
//   - more vectors (each unit loaded serves n of them, and 4 rows a warp): 2 where a lane still
//     takes 5 or more units (q4_0 4096 x 11008, n = 8: 35.3 us against 44.9 unsplit), else 1.
// Never so far split that a lane has no unit (TinyLlama's 2048 columns of q4_k are 32 units).
int cuq_split(int units, int64_t n, int preferred) {
  static const int forced = cuq_split_from_environment();
  if (forced) return forced;
  int split = n <= 2 ? preferred : (units >= 160 ? 2 : 1);
  while (split > 1 && units < 32 * split) split /= 2;
  return split;
}

template <class F, int N, int R, GpuDtype D>
void cuq_launch_gemv(const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols, const GemvInput& x,
                     int64_t n, const void* add, void* y, cudaStream_t stream) {
  const int split = cuq_split(static_cast<int>(cols / F::kValues * F::kUnits), n, F::kSplit);
  const int64_t rows_per_block = static_cast<int64_t>(kCuqWarps / split) * R;
  const auto grid = static_cast<unsigned>((rows + rows_per_block - 1) / rows_per_block);
  const bool aligned = reinterpret_cast<uintptr_t>(weights) % 16 == 0 && row_stride % 16 == 0;
  const auto kernel = aligned ? cuq_gemv_kernel<F, N, R, D, true> : cuq_gemv_kernel<F, N, R, D, false>;
  cuq_launch(kernel, grid, kCuqWarps * 32, stream, weights, row_stride, static_cast<int>(rows),
             static_cast<int>(cols / F::kValues), x, cols, static_cast<int>(n), split, add, y);
}

// The kernel for the smallest N of 1, 2, 4, 8 that holds n vectors.
template <class F, GpuDtype D>
void cuq_gemv_for_count(const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols, const GemvInput& x,
                        int64_t n, const void* add, void* y, cudaStream_t stream) {
  if (n <= 1) {
    cuq_launch_gemv<F, 1, kCuqRows<1>, D>(weights, row_stride, rows, cols, x, n, add, y, stream);
  } else if (n <= 2) {
    cuq_launch_gemv<F, 2, kCuqRows<2>, D>(weights, row_stride, rows, cols, x, n, add, y, stream);
  } else if (n <= 4) {
    cuq_launch_gemv<F, 4, kCuqRows<4>, D>(weights, row_stride, rows, cols, x, n, add, y, stream);
  } else {
    cuq_launch_gemv<F, 8, kCuqRows<8>, D>(weights, row_stride, rows, cols, x, n, add, y, stream);
  }
}

template <class F>
void cuq_gemv_for_format(const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols, const GemvInput& x,
                         int64_t n, const void* add, void* y, GpuDtype dtype, cudaStream_t stream) {
  switch (dtype) {
    case GpuDtype::f32: return cuq_gemv_for_count<F, GpuDtype::f32>(weights, row_stride, rows, cols, x, n, add, y, stream);
    case GpuDtype::f16: return cuq_gemv_for_count<F, GpuDtype::f16>(weights, row_stride, rows, cols, x, n, add, y, stream);
    case GpuDtype::bf16: return cuq_gemv_for_count<F, GpuDtype::bf16>(weights, row_stride, rows, cols, x, n, add, y, stream);
  }
}

}  // namespace

size_t gemv_input_bytes(int64_t n, int64_t cols) {
  const auto values = static_cast<size_t>(n * cols), runs = values / kCuqRun;
  return values + runs * (sizeof(float) + sizeof(int32_t));
}

GemvInput gemv_input_view(const void* scratch, int64_t n, int64_t cols) {
  const auto* base = static_cast<const uint8_t*>(scratch);
  const auto values = static_cast<size_t>(n * cols), runs = values / kCuqRun;
  // values is a multiple of 32: the scales stay 4-byte aligned behind the quants.
  return {reinterpret_cast<const int8_t*>(base), reinterpret_cast<const float*>(base + values),
          reinterpret_cast<const int32_t*>(base + values + runs * sizeof(float))};
}

cudaError_t quantize_gemv_input(const void* x, GpuDtype dtype, int64_t n, int64_t cols, int64_t row_stride,
                                int64_t col_stride, void* scratch, cudaStream_t stream) {
  if (n <= 0 || cols <= 0 || cols % kCuqRun != 0) return cudaErrorInvalidValue;
  const GemvInput view = gemv_input_view(scratch, n, cols);
  auto* q = const_cast<int8_t*>(view.q);
  auto* d = const_cast<float*>(view.d);
  auto* sum = const_cast<int32_t*>(view.sum);
  const int64_t runs = n * cols / kCuqRun, runs_per_block = 256 / 32;
  const auto grid = static_cast<unsigned>((runs + runs_per_block - 1) / runs_per_block);
  switch (dtype) {
    case GpuDtype::f32:
      cuq_launch(cuq_quantize_input_kernel<GpuDtype::f32>, grid, 256, stream, x, n, cols, row_stride, col_stride, q, d, sum);
      break;
    case GpuDtype::f16:
      cuq_launch(cuq_quantize_input_kernel<GpuDtype::f16>, grid, 256, stream, x, n, cols, row_stride, col_stride, q, d, sum);
      break;
    case GpuDtype::bf16:
      cuq_launch(cuq_quantize_input_kernel<GpuDtype::bf16>, grid, 256, stream, x, n, cols, row_stride, col_stride, q, d, sum);
      break;
  }
  return cudaGetLastError();
}

cudaError_t gemv(WeightFormat f, const uint8_t* weights, int64_t row_stride, int64_t rows, int64_t cols,
                 const GemvInput& x, int64_t n, const void* add, void* y, GpuDtype dtype, cudaStream_t stream) {
  if (n < 1 || n > kGemvMaxRows || rows <= 0 || cols <= 0 || cols % traits(f).block_elements != 0)
    return cudaErrorInvalidValue;
  switch (f) {
    case WeightFormat::q8_0: cuq_gemv_for_format<CuqQ8_0>(weights, row_stride, rows, cols, x, n, add, y, dtype, stream); break;
    case WeightFormat::q4_0: cuq_gemv_for_format<CuqQ4_0>(weights, row_stride, rows, cols, x, n, add, y, dtype, stream); break;
    case WeightFormat::q4_k: cuq_gemv_for_format<CuqQ4K>(weights, row_stride, rows, cols, x, n, add, y, dtype, stream); break;
    case WeightFormat::q6_k: cuq_gemv_for_format<CuqQ6K>(weights, row_stride, rows, cols, x, n, add, y, dtype, stream); break;
    default: return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

}  // namespace mlspeed::quant::gpu
