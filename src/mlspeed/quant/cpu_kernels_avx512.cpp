// The kernels for x86-64 CPUs with AVX-512 F, BW, VL and VNNI (Ice Lake, Sapphire Rapids, Zen 4
// and later), compiled for those instructions function by function (the target attribute), so
// that the file builds with the project's baseline flags and runs only where cpu_runs_avx512()
// says so.
//
// The integer dot products of cpu_kernels_internal.h, 64 bytes at a time. VNNI's vpdpbusd
// multiplies unsigned weight bytes by the input's signed ones and adds each 4 products into an
// int32 lane, one instruction where AVX2 takes three (maddubs, madd, add), which is why this
// variant multiplies integers too (cpu_kernels_avx2.cpp says why not float FMA). q8_0 and q4_0
// take two blocks a register; q4_k and q6_k apply their sub-block scales with vpdpwssd on
// maddubs' int16 pairs (at most 2 * 63 * 127: no saturation), so a super-block's sum stays
// integer until one conversion to float. Plain formats: float FMA with masked tails.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mlspeed/quant/block_layout.h"
#include "mlspeed/quant/cpu_kernels_internal.h"

#define MLSPEED_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

// GCC 12.2's AVX-512 intrinsics pass an undefined register (_mm512_undefined_*) as the unused
// merge source, which its -Wuninitialized reports wherever they are inlined (GCC bug 105593,
// fixed in 12.3); the warnings are checked at the call site, so they are silenced for this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace mlspeed::quant::kernels {
namespace {

constexpr int kAvx512Vectors = 4;  // input vectors a pass over a row serves

MLSPEED_AVX512 inline __m512i avx512_load(const void* p) { return _mm512_loadu_si512(p); }
MLSPEED_AVX512 inline __m256i avx512_load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
MLSPEED_AVX512 inline __m128i avx512_load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

MLSPEED_AVX512 inline float avx512_hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// The two fp16 values of the 4 bytes at p, as floats in lanes 0 and 1 (a block's scale and the
// 2 bytes after it, or q4_k's d and dmin).
MLSPEED_AVX512 inline __m128 avx512_halves(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits)));
}

// `count` (1-16) weights of a plain format from element c, as floats; the rest zero.
template <WeightFormat F>
MLSPEED_AVX512 inline __m512 avx512_load_weights(const uint8_t* w, int64_t c, __mmask16 mask) {
  if constexpr (F == WeightFormat::f32) {
    return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(w) + c);
  } else {
    const __m256i raw = _mm256_maskz_loadu_epi16(mask, w + 2 * c);
    if constexpr (F == WeightFormat::f16) return _mm512_cvtph_ps(raw);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));  // bf16: the top half
  }
}

// Plain formats: float FMA over 32 elements a step, two accumulators a vector for the FMA's
// latency; the last (cols % 16) elements through a mask.
template <WeightFormat F, int NV>
MLSPEED_AVX512 void avx512_float_row(const uint8_t* w, const Inputs& in, int64_t v0, float* out) {
  const int64_t cols = in.cols;
  const float* x = in.x + v0 * cols;
  __m512 acc[NV][2];
  for (int v = 0; v < NV; ++v) acc[v][0] = acc[v][1] = _mm512_setzero_ps();
  const __mmask16 all = 0xFFFF;
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    const __m512 w0 = avx512_load_weights<F>(w, c, all), w1 = avx512_load_weights<F>(w, c + 16, all);
    for (int v = 0; v < NV; ++v) {
      acc[v][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + v * cols + c), acc[v][0]);
      acc[v][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + v * cols + c + 16), acc[v][1]);
    }
  }
  for (; c < cols; c += 16) {
    const __mmask16 mask = cols - c >= 16 ? all : static_cast<__mmask16>((1u << (cols - c)) - 1);
    const __m512 wc = avx512_load_weights<F>(w, c, mask);
    for (int v = 0; v < NV; ++v)
      acc[v][0] = _mm512_fmadd_ps(wc, _mm512_maskz_loadu_ps(mask, x + v * cols + c), acc[v][0]);
  }
  for (int v = 0; v < NV; ++v) out[v] = _mm512_reduce_add_ps(_mm512_add_ps(acc[v][0], acc[v][1]));
}

// Where vector v's arrays start.
struct Avx512Input {
  const int8_t* q;
  const float* d;
  const int32_t* bias;
};

MLSPEED_AVX512 inline Avx512Input avx512_input(const Inputs& in, int64_t v) {
  return {in.q + v * in.cols, in.d + v * (in.cols / kQK), in.bias + v * (in.cols / 4)};
}

// Blocks b and b + 1 as unsigned bytes in the input's order (32 elements of each): q8_0's int8
// flipped to w + 128; q4_0's nibbles, low ones of a block before its high ones.
MLSPEED_AVX512 inline __m512i avx512_pair(const BlockQ8_0* w) {
  const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(avx512_load256(w[0].qs)), avx512_load256(w[1].qs), 1);
  return _mm512_xor_si512(q, _mm512_set1_epi8(-128));
}

MLSPEED_AVX512 inline __m512i avx512_pair(const BlockQ4_0* w) {
  const __m256i both =
      _mm256_inserti128_si256(_mm256_castsi128_si256(avx512_load128(w[0].qs)), avx512_load128(w[1].qs), 1);
  const __m512i lanes = _mm512_inserti64x4(_mm512_castsi256_si512(both), _mm256_srli_epi16(both, 4), 1);
  // [low 0, low 1, high 0, high 1] to [low 0, high 0, low 1, high 1]
  return _mm512_and_si512(_mm512_shuffle_i64x2(lanes, lanes, _MM_SHUFFLE(3, 1, 2, 0)), _mm512_set1_epi8(0x0F));
}

// One block (the last of an odd count), as avx512_pair in 256 bits.
MLSPEED_AVX512 inline __m256i avx512_single(const BlockQ8_0& w) {
  return _mm256_xor_si256(avx512_load256(w.qs), _mm256_set1_epi8(-128));
}

MLSPEED_AVX512 inline __m256i avx512_single(const BlockQ4_0& w) {
  const __m128i packed = avx512_load128(w.qs);
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

// Blocks b and b + 1 of one vector: the flipped weights' dot product, plus the bias that takes the
// flip back out, in 8 int32 lanes a block; scaled by w's and x's scales into the accumulator.
MLSPEED_AVX512 inline __m512 avx512_pair_product(const __m512i& weights, __m128 dw, const Avx512Input& x, int64_t b,
                                                 __m512 acc) {
  const __m512i dot = _mm512_dpbusd_epi32(avx512_load(x.bias + 8 * b), weights, avx512_load(x.q + kQK * b));
  const __m128 scales = _mm_mul_ps(dw, _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x.d + b))));
  const __m512 spread = _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                                              _mm512_castps128_ps512(scales));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), spread, acc);
}

// Blocks b and b + 1 for every vector, into accumulator `slot` of each.
template <class Block, int NV, int Slot>
MLSPEED_AVX512 inline void avx512_pair_step(const Block* w, int64_t b, const Avx512Input (&x)[NV],
                                            __m512 (&acc)[NV][2]) {
  const __m512i weights = avx512_pair(w + b);
  const uint32_t scale_bits = load_u16(w[b].d) | static_cast<uint32_t>(load_u16(w[b + 1].d)) << 16;
  const __m128 dw = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(scale_bits)));
  for (int v = 0; v < NV; ++v) acc[v][Slot] = avx512_pair_product(weights, dw, x[v], b, acc[v][Slot]);
}

// q8_0 and q4_0: two blocks a register; pairs alternate between two accumulators, as one would
// make each wait for the last FMA.
template <class Block, int NV>
MLSPEED_AVX512 void avx512_q32_row(const Block* w, const Inputs& in, int64_t v0, float* out) {
  Avx512Input x[NV];
  __m512 acc[NV][2];
  for (int v = 0; v < NV; ++v) x[v] = avx512_input(in, v0 + v), acc[v][0] = acc[v][1] = _mm512_setzero_ps();
  const int64_t blocks = in.cols / kQK;
  int64_t b = 0;
  for (; b + 4 <= blocks; b += 4) {
    avx512_pair_step<Block, NV, 0>(w, b, x, acc);
    avx512_pair_step<Block, NV, 1>(w, b + 2, x, acc);
  }
  if (b + 2 <= blocks) {
    avx512_pair_step<Block, NV, 0>(w, b, x, acc);
    b += 2;
  }
  __m256 last[NV];
  for (int v = 0; v < NV; ++v) last[v] = _mm256_setzero_ps();
  if (b < blocks) {
    const __m256i weights = avx512_single(w[b]);
    const float dw = _mm_cvtss_f32(avx512_halves(w[b].d));
    for (int v = 0; v < NV; ++v) {
      const __m256i dot =
          _mm256_dpbusd_epi32(avx512_load256(x[v].bias + 8 * b), weights, avx512_load256(x[v].q + kQK * b));
      last[v] = _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(dw * x[v].d[b]));
    }
  }
  for (int v = 0; v < NV; ++v)
    out[v] = _mm512_reduce_add_ps(_mm512_add_ps(acc[v][0], acc[v][1])) + avx512_hsum256(last[v]);
}

// q4_k: per 64 elements, the 32 bytes' low nibbles then their high ones, two sub-blocks whose
// scales vpermw spreads over their 16 int16 lanes each.
template <int NV>
MLSPEED_AVX512 void avx512_q4_k_row(const BlockQ4K* w, const Inputs& in, int64_t v0, float* out) {
  const int64_t cols = in.cols;
  __m512 acc[NV];
  __m128 acc_min[NV];
  for (int v = 0; v < NV; ++v) acc[v] = _mm512_setzero_ps(), acc_min[v] = _mm_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const __m512i spread = _mm512_set_epi16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const Q4kScales packed = q4k_unpack_scales(w[b].scales);
    const __m512i scales16 =
        _mm512_cvtepu8_epi16(_mm256_zextsi128_si256(_mm_cvtsi64_si128(static_cast<int64_t>(packed.scales))));
    __m512i dot[NV];
    for (int v = 0; v < NV; ++v) dot[v] = _mm512_setzero_si512();
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m256i packed = avx512_load256(w[b].qs + 32 * chunk);
      const __m512i nibbles =
          _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(packed), _mm256_srli_epi16(packed, 4), 1), low4);
      const __m512i scale = _mm512_permutexvar_epi16(
          _mm512_add_epi16(spread, _mm512_set1_epi16(static_cast<short>(2 * chunk))), scales16);
      for (int v = 0; v < NV; ++v) {
        const int8_t* x = in.q + (v0 + v) * cols + kQKK * b + 64 * chunk;
        dot[v] = _mm512_dpwssd_epi32(dot[v], _mm512_maddubs_epi16(nibbles, avx512_load(x)), scale);
      }
    }
    const __m128i mins16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(packed.mins)));
    const __m128 scales = avx512_halves(w[b].d);  // d, dmin
    const float dw = _mm_cvtss_f32(scales), dminw = _mm_cvtss_f32(_mm_movehdup_ps(scales));
    for (int v = 0; v < NV; ++v) {
      const float dx = in.d[(v0 + v) * (cols / kQKK) + b];
      const int16_t* sum32 = in.sum32 + (v0 + v) * (cols / 32) + 8 * b;
      const __m128i offset = _mm_madd_epi16(mins16, avx512_load128(sum32));
      acc[v] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[v]), _mm512_set1_ps(dw * dx), acc[v]);
      acc_min[v] = _mm_fmadd_ps(_mm_cvtepi32_ps(offset), _mm_set1_ps(dminw * dx), acc_min[v]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    const __m128 m = _mm_add_ps(acc_min[v], _mm_movehl_ps(acc_min[v], acc_min[v]));
    out[v] = _mm512_reduce_add_ps(acc[v]) - _mm_cvtss_f32(_mm_add_ss(m, _mm_movehdup_ps(m)));
  }
}

// A q6_k half-block (128 elements) as two registers of 64 unsigned bytes (0-63): elements 0-63
// take ql's low nibbles and qh's bits 0-1 and 2-3, elements 64-127 the high nibbles and bits 4-5
// and 6-7; per-lane shifts (vpsllvw, vpsrlvw) bring each 256 bits' pair of bits to bits 4-5.
MLSPEED_AVX512 inline void avx512_q6_k_unpack(const uint8_t* ql, const uint8_t* qh, __m512i& first, __m512i& second) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), bits45 = _mm512_set1_epi8(0x30);
  const __m512i l = avx512_load(ql), h = _mm512_broadcast_i64x4(avx512_load256(qh));
  // Shift counts per int16 lane: the first 256 bits by 4 (left) and 0 (right), the second by 2.
  const __m512i up = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
  const __m512i down = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
  first = _mm512_or_si512(_mm512_and_si512(l, low4), _mm512_and_si512(_mm512_sllv_epi16(h, up), bits45));
  second = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), low4),
                           _mm512_and_si512(_mm512_srlv_epi16(h, down), bits45));
}

// q6_k: sum_g sc_g (q_g . x_g) over unsigned q, less 32 sum_g sc_g sum(x_g) for the offset.
template <int NV>
MLSPEED_AVX512 void avx512_q6_k_row(const BlockQ6K* w, const Inputs& in, int64_t v0, float* out) {
  const int64_t cols = in.cols;
  __m512 acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = _mm512_setzero_ps();
  // Four groups of 16 elements a register, 8 int16 lanes each after maddubs.
  const __m512i groups = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2,  //
                                          1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const __m128i scales8 = avx512_load128(w[b].scales);
    const __m512i scales16 = _mm512_cvtepi8_epi16(_mm256_castsi128_si256(scales8));
    __m512i dot[NV];
    for (int v = 0; v < NV; ++v) dot[v] = _mm512_setzero_si512();
    for (int half = 0; half < 2; ++half) {
      __m512i q[2];
      avx512_q6_k_unpack(w[b].ql + 64 * half, w[b].qh + 32 * half, q[0], q[1]);
      for (int k = 0; k < 2; ++k) {
        const __m512i index = _mm512_add_epi16(groups, _mm512_set1_epi16(static_cast<short>(8 * half + 4 * k)));
        const __m512i scale = _mm512_permutexvar_epi16(index, scales16);
        for (int v = 0; v < NV; ++v) {
          const int8_t* x = in.q + (v0 + v) * cols + kQKK * b + 128 * half + 64 * k;
          dot[v] = _mm512_dpwssd_epi32(dot[v], _mm512_maddubs_epi16(q[k], avx512_load(x)), scale);
        }
      }
    }
    const __m256i scales16_low = _mm512_castsi512_si256(scales16);
    const float dw = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(load_u16(w[b].d))));
    for (int v = 0; v < NV; ++v) {
      const __m256i offset =
          _mm256_madd_epi16(scales16_low, avx512_load256(in.sum16 + (v0 + v) * (cols / 16) + 16 * b));
      dot[v] = _mm512_sub_epi32(dot[v], _mm512_zextsi256_si512(_mm256_slli_epi32(offset, 5)));
      acc[v] =
          _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[v]), _mm512_set1_ps(dw * in.d[(v0 + v) * (cols / kQKK) + b]), acc[v]);
    }
  }
  for (int v = 0; v < NV; ++v) out[v] = _mm512_reduce_add_ps(acc[v]);
}

template <int NV>
void avx512_row(const Job& job, const uint8_t* row, int64_t v0, float* out) {
  const Inputs& in = *job.in;
  switch (job.format) {
    case WeightFormat::f32:
      return avx512_float_row<WeightFormat::f32, NV>(row, in, v0, out);
    case WeightFormat::f16:
      return avx512_float_row<WeightFormat::f16, NV>(row, in, v0, out);
    case WeightFormat::bf16:
      return avx512_float_row<WeightFormat::bf16, NV>(row, in, v0, out);
    case WeightFormat::q8_0:
      return avx512_q32_row<BlockQ8_0, NV>(reinterpret_cast<const BlockQ8_0*>(row), in, v0, out);
    case WeightFormat::q4_0:
      return avx512_q32_row<BlockQ4_0, NV>(reinterpret_cast<const BlockQ4_0*>(row), in, v0, out);
    case WeightFormat::q4_k:
      return avx512_q4_k_row<NV>(reinterpret_cast<const BlockQ4K*>(row), in, v0, out);
    case WeightFormat::q6_k:
      return avx512_q6_k_row<NV>(reinterpret_cast<const BlockQ6K*>(row), in, v0, out);
  }
}

}  // namespace

void rows_avx512(const Job& job, int64_t begin, int64_t end) {
  const int64_t n = job.in->n;
  float out[kAvx512Vectors];
  for (int64_t r = begin; r < end; ++r) {
    const uint8_t* row = job.weight + r * job.row_bytes;
    for (int64_t v0 = 0; v0 < n; v0 += kAvx512Vectors) {
      const int64_t count = std::min<int64_t>(kAvx512Vectors, n - v0);
      if (count == 4)
        avx512_row<4>(job, row, v0, out);
      else if (count == 3)
        avx512_row<3>(job, row, v0, out);
      else if (count == 2)
        avx512_row<2>(job, row, v0, out);
      else
        avx512_row<1>(job, row, v0, out);
      for (int64_t v = 0; v < count; ++v) job.y[(v0 + v) * job.rows + r] = out[v];
    }
  }
}

bool cpu_runs_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") && cpu_runs_avx2();
}

}  // namespace mlspeed::quant::kernels

#pragma GCC diagnostic pop
#undef MLSPEED_AVX512
