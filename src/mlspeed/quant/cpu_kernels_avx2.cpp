// The kernels for x86-64 CPUs with AVX2, FMA and F16C (Haswell, Zen 1 and later), compiled for
// those instructions function by function (the target attribute), so that the file builds with
// the project's baseline flags and runs only where cpu_runs_avx2() says so.
//
// Quantised weights: the integer dot products of cpu_kernels_internal.h, 32 weights at a time.
// maddubs multiplies unsigned weight bytes by the input's signed ones and adds pairs (int16; no
// pair can saturate: inputs are within -127..127, weights at most 63, or 128 via the sign trick),
// madd adds pairs again into 8 int32 lanes, or multiplies by a sub-block's scale first (q4_k,
// q6_k), so a super-block's integer sum is finished before the one conversion to float. Why
// integers rather than dequantising to float and using FMA: a block of 32 q4_0 weights then takes
// about 12 instructions, against some 20 to widen 32 nibbles to 4 vectors of floats and FMA them,
// and the int8 input is a quarter of the float one to keep in cache. Decoding is bound by memory;
// fewer instructions per byte is what lets one core approach the memory's speed.
//
// Up to 4 input vectors share one pass over a row: the weights are unpacked once for all of them.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "mlspeed/quant/block_layout.h"
#include "mlspeed/quant/cpu_kernels_internal.h"

#define MLSPEED_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace mlspeed::quant::kernels {
namespace {

constexpr int kAvx2Vectors = 4;  // input vectors a pass over a row serves

MLSPEED_AVX2 inline float avx2_hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

MLSPEED_AVX2 inline float avx2_half(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

MLSPEED_AVX2 inline __m256i avx2_load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 8 weights of a plain format, as floats.
template <WeightFormat F>
MLSPEED_AVX2 inline __m256 avx2_load_weights(const uint8_t* w, int64_t c) {
  if constexpr (F == WeightFormat::f32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(w) + c);
  } else {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * c));
    if constexpr (F == WeightFormat::f16) return _mm256_cvtph_ps(raw);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));  // bf16: the top half
  }
}

template <WeightFormat F>
MLSPEED_AVX2 inline float avx2_weight(const uint8_t* w, int64_t c) {
  if constexpr (F == WeightFormat::f32) {
    float v;
    std::memcpy(&v, w + 4 * c, sizeof v);
    return v;
  } else if constexpr (F == WeightFormat::f16) {
    return avx2_half(w + 2 * c);
  } else {
    const uint32_t bits = static_cast<uint32_t>(load_u16(w + 2 * c)) << 16;
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
}

// Plain formats: float FMA, two accumulators a vector to cover the FMA's latency.
template <WeightFormat F, int NV>
MLSPEED_AVX2 void avx2_float_row(const uint8_t* w, const Inputs& in, int64_t v0, float* out) {
  const int64_t cols = in.cols;
  const float* x = in.x + v0 * cols;
  __m256 acc[NV][2];
  for (int v = 0; v < NV; ++v) acc[v][0] = acc[v][1] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m256 w0 = avx2_load_weights<F>(w, c), w1 = avx2_load_weights<F>(w, c + 8);
    for (int v = 0; v < NV; ++v) {
      acc[v][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + v * cols + c), acc[v][0]);
      acc[v][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + v * cols + c + 8), acc[v][1]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    float sum = avx2_hsum(_mm256_add_ps(acc[v][0], acc[v][1]));
    for (int64_t t = c; t < cols; ++t) sum += avx2_weight<F>(w, t) * x[v * cols + t];
    out[v] = sum;
  }
}

// Where vector v's arrays start.
struct Avx2Input {
  const int8_t* q;
  const float* d;
  const int32_t* bias;
};

MLSPEED_AVX2 inline Avx2Input avx2_input(const Inputs& in, int64_t v) {
  return {in.q + v * in.cols, in.d + v * (in.cols / kQK), in.bias + v * (in.cols / 4)};
}

// The fp16 at p, from a load of 4 bytes (one instruction, not a zeroed register and an insert):
// only for a scale that is followed by 2 more bytes of its block.
MLSPEED_AVX2 inline float avx2_half_low(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, sizeof bits);
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(bits))));
}

// The int32 lanes of block b's dot product with vector v (all lanes summed later).
MLSPEED_AVX2 inline __m256i avx2_q8_0_dot(const BlockQ8_0& w, const int8_t* x) {
  const __m256i qw = avx2_load(w.qs);
  const __m256i magnitude = _mm256_sign_epi8(qw, qw);           // |w|, unsigned (128 for -128)
  const __m256i signed_x = _mm256_sign_epi8(avx2_load(x), qw);  // x with w's sign
  return _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_x), _mm256_set1_epi16(1));
}

// The nibbles count from 0 to 15; the input's bias takes the 8 back out.
MLSPEED_AVX2 inline __m256i avx2_q4_0_dot(const BlockQ4_0& w, const int8_t* x, const int32_t* bias) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.qs));
  const __m256i qw = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
  const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(qw, avx2_load(x)), _mm256_set1_epi16(1));
  return _mm256_add_epi32(dot, avx2_load(bias));
}

template <class Block>
MLSPEED_AVX2 inline __m256i avx2_block_dot(const Block& w, const Avx2Input& x, int64_t b) {
  if constexpr (std::is_same_v<Block, BlockQ8_0>)
    return avx2_q8_0_dot(w, x.q + kQK * b);
  else
    return avx2_q4_0_dot(w, x.q + kQK * b, x.bias + 8 * b);
}

// q8_0 and q4_0: blocks of 32 with an fp16 scale. Even and odd blocks feed two accumulators: one
// would make each block wait for the last one's FMA (4 cycles), slower than the memory.
template <class Block, int NV>
MLSPEED_AVX2 void avx2_q32_row(const Block* w, const Inputs& in, int64_t v0, float* out) {
  Avx2Input x[NV];
  __m256 acc[NV][2];
  for (int v = 0; v < NV; ++v) x[v] = avx2_input(in, v0 + v), acc[v][0] = acc[v][1] = _mm256_setzero_ps();
  const int64_t blocks = in.cols / kQK;
  int64_t b = 0;
  for (; b + 2 <= blocks; b += 2) {
    const float dw0 = avx2_half_low(w[b].d), dw1 = avx2_half_low(w[b + 1].d);
    for (int v = 0; v < NV; ++v) {
      const __m256 dot0 = _mm256_cvtepi32_ps(avx2_block_dot(w[b], x[v], b));
      const __m256 dot1 = _mm256_cvtepi32_ps(avx2_block_dot(w[b + 1], x[v], b + 1));
      acc[v][0] = _mm256_fmadd_ps(dot0, _mm256_set1_ps(dw0 * x[v].d[b]), acc[v][0]);
      acc[v][1] = _mm256_fmadd_ps(dot1, _mm256_set1_ps(dw1 * x[v].d[b + 1]), acc[v][1]);
    }
  }
  if (b < blocks) {
    const float dw = avx2_half_low(w[b].d);
    for (int v = 0; v < NV; ++v)
      acc[v][0] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(avx2_block_dot(w[b], x[v], b)), _mm256_set1_ps(dw * x[v].d[b]), acc[v][0]);
  }
  for (int v = 0; v < NV; ++v) out[v] = avx2_hsum(_mm256_add_ps(acc[v][0], acc[v][1]));
}

// Per super-block: d sum_j sc_j (q_j . x_j) in integers, then dmin sum_j m_j sum(x_j) apart.
template <int NV>
MLSPEED_AVX2 void avx2_q4_k_row(const BlockQ4K* w, const Inputs& in, int64_t v0, float* out) {
  const int64_t cols = in.cols;
  __m256 acc[NV];
  __m128 acc_min[NV];
  for (int v = 0; v < NV; ++v) acc[v] = _mm256_setzero_ps(), acc_min[v] = _mm_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const __m256i word0 = _mm256_set1_epi16(0x0100);  // bytes 0 and 1 (word 0) in every word: shuffle's mask
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const Q4kScales packed = q4k_unpack_scales(w[b].scales);
    // The 8 scales as int16, twice; run `chunk` takes words 2 chunk and 2 chunk + 1 across all lanes.
    const __m256i scales =
        _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(packed.scales))));
    __m256i dot[NV];
    for (int v = 0; v < NV; ++v) dot[v] = _mm256_setzero_si256();
    for (int chunk = 0; chunk < 4; ++chunk) {
      const __m256i packed_q = avx2_load(w[b].qs + 32 * chunk);
      const __m256i lo = _mm256_and_si256(packed_q, low4), hi = _mm256_and_si256(_mm256_srli_epi16(packed_q, 4), low4);
      const __m256i scale_lo =
          _mm256_shuffle_epi8(scales, _mm256_add_epi8(word0, _mm256_set1_epi8(static_cast<char>(4 * chunk))));
      const __m256i scale_hi =
          _mm256_shuffle_epi8(scales, _mm256_add_epi8(word0, _mm256_set1_epi8(static_cast<char>(4 * chunk + 2))));
      for (int v = 0; v < NV; ++v) {
        const int8_t* x = in.q + (v0 + v) * cols + kQKK * b + 64 * chunk;
        dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(_mm256_maddubs_epi16(lo, avx2_load(x)), scale_lo));
        dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(_mm256_maddubs_epi16(hi, avx2_load(x + 32)), scale_hi));
      }
    }
    const __m128i mins16 = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<int64_t>(packed.mins)));
    const float dw = avx2_half(w[b].d), dminw = avx2_half(w[b].dmin);
    for (int v = 0; v < NV; ++v) {
      const float dx = in.d[(v0 + v) * (cols / kQKK) + b];
      const int16_t* sum32 = in.sum32 + (v0 + v) * (cols / 32) + 8 * b;
      const __m128i offset = _mm_madd_epi16(mins16, _mm_loadu_si128(reinterpret_cast<const __m128i*>(sum32)));
      acc[v] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[v]), _mm256_set1_ps(dw * dx), acc[v]);
      acc_min[v] = _mm_fmadd_ps(_mm_cvtepi32_ps(offset), _mm_set1_ps(dminw * dx), acc_min[v]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    __m128 m = _mm_add_ps(acc_min[v], _mm_movehl_ps(acc_min[v], acc_min[v]));
    out[v] = avx2_hsum(acc[v]) - _mm_cvtss_f32(_mm_add_ss(m, _mm_movehdup_ps(m)));
  }
}

// The 4 runs of 32 elements of a q6_k half-block (128 elements), as bytes 0-63.
MLSPEED_AVX2 inline void avx2_q6_k_unpack(const uint8_t* ql, const uint8_t* qh, __m256i q[4]) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), bits45 = _mm256_set1_epi8(0x30);
  const __m256i l0 = avx2_load(ql), l1 = avx2_load(ql + 32), h = avx2_load(qh);
  q[0] = _mm256_or_si256(_mm256_and_si256(l0, low4), _mm256_and_si256(_mm256_slli_epi16(h, 4), bits45));
  q[1] = _mm256_or_si256(_mm256_and_si256(l1, low4), _mm256_and_si256(_mm256_slli_epi16(h, 2), bits45));
  q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), _mm256_and_si256(h, bits45));
  q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                         _mm256_and_si256(_mm256_srli_epi16(h, 2), bits45));
}

// q6_k: sum_g sc_g (q_g . x_g) over unsigned q (0-63), less 32 sum_g sc_g sum(x_g) for the offset.
// Run k of a half covers scale groups 2k (its low 16 bytes) and 2k + 1: a shuffle spreads them.
template <int NV>
MLSPEED_AVX2 void avx2_q6_k_row(const BlockQ6K* w, const Inputs& in, int64_t v0, float* out) {
  const int64_t cols = in.cols;
  __m256 acc[NV];
  for (int v = 0; v < NV; ++v) acc[v] = _mm256_setzero_ps();
  __m256i spread[4];
  for (int k = 0; k < 4; ++k)
    spread[k] = _mm256_setr_epi8(4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k,
                                 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3,
                                 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3,
                                 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3, 4 * k + 2, 4 * k + 3);
  for (int64_t b = 0; b < cols / kQKK; ++b) {
    const __m128i scales8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].scales));
    __m256i dot[NV];
    for (int v = 0; v < NV; ++v) dot[v] = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i scales =
          _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half ? _mm_srli_si128(scales8, 8) : scales8));
      __m256i q[4];
      avx2_q6_k_unpack(w[b].ql + 64 * half, w[b].qh + 32 * half, q);
      for (int k = 0; k < 4; ++k) {
        const __m256i scale = _mm256_shuffle_epi8(scales, spread[k]);
        for (int v = 0; v < NV; ++v) {
          const int8_t* x = in.q + (v0 + v) * cols + kQKK * b + 128 * half + 32 * k;
          dot[v] = _mm256_add_epi32(dot[v], _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], avx2_load(x)), scale));
        }
      }
    }
    const __m256i scales16 = _mm256_cvtepi8_epi16(scales8);
    const float dw = avx2_half(w[b].d);
    for (int v = 0; v < NV; ++v) {
      const __m256i offset = _mm256_madd_epi16(scales16, avx2_load(in.sum16 + (v0 + v) * (cols / 16) + 16 * b));
      dot[v] = _mm256_sub_epi32(dot[v], _mm256_slli_epi32(offset, 5));
      acc[v] =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[v]), _mm256_set1_ps(dw * in.d[(v0 + v) * (cols / kQKK) + b]), acc[v]);
    }
  }
  for (int v = 0; v < NV; ++v) out[v] = avx2_hsum(acc[v]);
}

// One run of `count` (32 or 256) floats: d = max |x| / 127 and q = round(x / d), rounded to
// nearest even by vcvtps2dq (as the portable variant's adder trick): the same bytes.
MLSPEED_AVX2 float avx2_quantize_run(const float* x, int count, int8_t* q) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 amax = _mm256_setzero_ps();
  for (int j = 0; j < count; j += 8) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  const float d = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m))) / 127, id = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 scale = _mm256_set1_ps(id);
  // packs interleaves 128-bit lanes: dwords come out as a0 b0 c0 d0 a1 b1 c1 d1; the permute
  // restores a0 a1 b0 b1 ...
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int j = 0; j < count; j += 32) {
    __m256i i[4];
    for (int k = 0; k < 4; ++k) i[k] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), scale));
    const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + j), _mm256_permutevar8x32_epi32(packed, order));
  }
  return d;
}

// The sums of each 4 of 32 int8 values, in 8 int32 lanes.
MLSPEED_AVX2 inline __m256i avx2_quad_sums(const int8_t* q) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), avx2_load(q)), _mm256_set1_epi16(1));
}

MLSPEED_AVX2 void avx2_quantize_input(WeightFormat f, const float* x, int64_t elements, const InputArrays& out) {
  if (traits(f).block_elements == kQKK) {
    for (int64_t b = 0; b < elements / kQKK; ++b) out.d[b] = avx2_quantize_run(x + kQKK * b, kQKK, out.q + kQKK * b);
    for (int64_t g = 0; g < elements / 32; ++g) {
      alignas(32) int32_t quads[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(quads), avx2_quad_sums(out.q + 32 * g));
      out.sum16[2 * g] = static_cast<int16_t>(quads[0] + quads[1] + quads[2] + quads[3]);
      out.sum16[2 * g + 1] = static_cast<int16_t>(quads[4] + quads[5] + quads[6] + quads[7]);
      out.sum32[g] = static_cast<int16_t>(out.sum16[2 * g] + out.sum16[2 * g + 1]);
    }
    return;
  }
  const __m256i bias_unit = _mm256_set1_epi32(f == WeightFormat::q8_0 ? -128 : -8);
  for (int64_t b = 0; b < elements / kQK; ++b) {
    out.d[b] = avx2_quantize_run(x + kQK * b, kQK, out.q + kQK * b);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.bias + 8 * b),
                        _mm256_mullo_epi32(avx2_quad_sums(out.q + kQK * b), bias_unit));
  }
}

template <int NV>
void avx2_row(const Job& job, const uint8_t* row, int64_t v0, float* out) {
  const Inputs& in = *job.in;
  switch (job.format) {
    case WeightFormat::f32:
      return avx2_float_row<WeightFormat::f32, NV>(row, in, v0, out);
    case WeightFormat::f16:
      return avx2_float_row<WeightFormat::f16, NV>(row, in, v0, out);
    case WeightFormat::bf16:
      return avx2_float_row<WeightFormat::bf16, NV>(row, in, v0, out);
    case WeightFormat::q8_0:
      return avx2_q32_row<BlockQ8_0, NV>(reinterpret_cast<const BlockQ8_0*>(row), in, v0, out);
    case WeightFormat::q4_0:
      return avx2_q32_row<BlockQ4_0, NV>(reinterpret_cast<const BlockQ4_0*>(row), in, v0, out);
    case WeightFormat::q4_k:
      return avx2_q4_k_row<NV>(reinterpret_cast<const BlockQ4K*>(row), in, v0, out);
    case WeightFormat::q6_k:
      return avx2_q6_k_row<NV>(reinterpret_cast<const BlockQ6K*>(row), in, v0, out);
  }
}

}  // namespace

void quantize_input_avx2(WeightFormat f, const float* x, int64_t elements, const InputArrays& out) {
  avx2_quantize_input(f, x, elements, out);
}

void rows_avx2(const Job& job, int64_t begin, int64_t end) {
  const int64_t n = job.in->n;
  float out[kAvx2Vectors];
  for (int64_t r = begin; r < end; ++r) {
    const uint8_t* row = job.weight + r * job.row_bytes;
    for (int64_t v0 = 0; v0 < n; v0 += kAvx2Vectors) {
      const int64_t count = std::min<int64_t>(kAvx2Vectors, n - v0);
      if (count == 4)
        avx2_row<4>(job, row, v0, out);
      else if (count == 3)
        avx2_row<3>(job, row, v0, out);
      else if (count == 2)
        avx2_row<2>(job, row, v0, out);
      else
        avx2_row<1>(job, row, v0, out);
      for (int64_t v = 0; v < count; ++v) job.y[(v0 + v) * job.rows + r] = out[v];
    }
  }
}

bool cpu_runs_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

}  // namespace mlspeed::quant::kernels

#undef MLSPEED_AVX2
