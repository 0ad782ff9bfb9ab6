#include "mlspeed/quant/blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "mlspeed/quant/block_layout.h"

// The arithmetic below is float, written in ggml's order ((d * sc) * q - dmin * m), and this file
// is compiled for the baseline x86-64 (no FMA), so no multiply-add is fused: the decoded floats and
// the q8_0/q4_0 bytes are ggml's to the bit.

namespace mlspeed::quant {
namespace {

uint32_t blocks_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float blocks_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// `value` shifted right by `shift` (1-31 bits), rounded to nearest, ties to even.
uint32_t shift_round_even(uint32_t value, int shift) {
  const uint32_t kept = value >> shift, rest = value & ((1u << shift) - 1), half = 1u << (shift - 1);
  return kept + (rest > half || (rest == half && (kept & 1)));
}

// The smallest fp16 at or above `v` (v >= 0, finite): a block scale rounded up, so that the
// quantised scales computed from it never need more than their bits.
uint16_t half_at_or_above(float v) {
  const uint16_t h = float_to_half(v);
  return half_to_float(h) < v ? static_cast<uint16_t>(h + 1) : h;
}

// Clamped as floats first: a huge quotient (a step of a few ulps) must not overflow the int.
int ceil_to_int(float v, int most) {
  return static_cast<int>(std::ceil(std::clamp(v, 0.0f, static_cast<float>(most))));
}
int nearest_clamped(float v, int lo, int hi) {
  return static_cast<int>(std::nearbyint(std::clamp(v, static_cast<float>(lo), static_cast<float>(hi))));
}

void dequantize_q8_0(const BlockQ8_0& b, float* out) {
  const float d = half_to_float(load_u16(b.d));
  for (int j = 0; j < kQK; ++j) out[j] = b.qs[j] * d;
}

void dequantize_q4_0(const BlockQ4_0& b, float* out) {
  const float d = half_to_float(load_u16(b.d));
  for (int j = 0; j < kQK / 2; ++j) {
    out[j] = ((b.qs[j] & 0xF) - 8) * d;
    out[j + kQK / 2] = ((b.qs[j] >> 4) - 8) * d;
  }
}

void dequantize_q4_k(const BlockQ4K& b, float* out) {
  const float d = half_to_float(load_u16(b.d)), dmin = half_to_float(load_u16(b.dmin));
  for (int chunk = 0; chunk < 4; ++chunk) {
    int sc_lo, m_lo, sc_hi, m_hi;
    q4k_scale_min(2 * chunk, b.scales, sc_lo, m_lo);
    q4k_scale_min(2 * chunk + 1, b.scales, sc_hi, m_hi);
    const float d_lo = d * sc_lo, min_lo = dmin * m_lo, d_hi = d * sc_hi, min_hi = dmin * m_hi;
    const uint8_t* q = b.qs + 32 * chunk;
    float* o = out + 64 * chunk;
    for (int l = 0; l < 32; ++l) {
      o[l] = d_lo * (q[l] & 0xF) - min_lo;
      o[l + 32] = d_hi * (q[l] >> 4) - min_hi;
    }
  }
}

// Each 128 elements: ql's 64 bytes give the low 4 bits (bytes 0-31 of elements 0-31 in their low
// nibbles and 64-95 in their high ones, bytes 32-63 likewise for 32-63 and 96-127), qh's 32 bytes
// the high 2 bits (bits 0-1 for 0-31, 2-3 for 32-63, 4-5 for 64-95, 6-7 for 96-127).
void dequantize_q6_k(const BlockQ6K& b, float* out) {
  const float d = half_to_float(load_u16(b.d));
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    const int8_t* sc = b.scales + 8 * half;
    float* o = out + 128 * half;
    for (int l = 0; l < 32; ++l) {
      const int g = l / 16;
      o[l] = d * sc[g] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
      o[l + 32] = d * sc[g + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      o[l + 64] = d * sc[g + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      o[l + 96] = d * sc[g + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

// ggml's quantize_row_q8_0_ref: d = max |x| / 127, q = round(x / d) (halves away from zero).
void quantize_q8_0(const float* x, BlockQ8_0& b) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127, id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(b.d, float_to_half(d));
  for (int j = 0; j < kQK; ++j) b.qs[j] = static_cast<int8_t>(std::round(x[j] * id));
}

// ggml's quantize_row_q4_0_ref: the element of largest magnitude, with its sign, becomes -8 d;
// q = min(15, trunc(x / d + 8.5)). The first of equal magnitudes wins, as in ggml.
void quantize_q4_0(const float* x, BlockQ4_0& b) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -8, id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(b.d, float_to_half(d));
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = std::min(15, static_cast<int>(x[j] * id + 8.5f));
    const int hi = std::min(15, static_cast<int>(x[j + kQK / 2] * id + 8.5f));
    b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// Q4_K, simpler than llama.cpp's quantize_row_q4_K_ref (which searches each sub-block's scale and
// min for the least weighted squared error, make_qkx2_quants, and rounds the 6-bit scales to
// nearest): each sub-block of 32 takes its own range, min(0, min x) to max x; the mins' and the
// scales' super-scales are rounded up to fp16 and the 6-bit values rounded up, so that the
// quantised range still covers the sub-block and every q is round((x + min) / step) within 0-15,
// never clamped. The error is at most half a step, a step at most (range + the 6-bit rounding)/15.
void quantize_q4_k(const float* x, BlockQ4K& b) {
  float mins[8], tops[8], max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    const auto [lo, hi] = std::minmax_element(x + 32 * j, x + 32 * j + 32);
    mins[j] = -std::min(0.0f, *lo);  // >= 0: the offset added before quantising
    tops[j] = *hi;
    max_min = std::max(max_min, mins[j]);
  }
  const uint16_t dmin_h = half_at_or_above(max_min / 63);
  const float dmin = half_to_float(dmin_h);
  int lm[8], ls[8];
  float steps[8], max_step = 0.0f;
  for (int j = 0; j < 8; ++j) {
    lm[j] = dmin > 0 ? ceil_to_int(mins[j] / dmin, 63) : 0;
    steps[j] = (tops[j] + dmin * lm[j]) / 15;
    max_step = std::max(max_step, steps[j]);
  }
  const uint16_t d_h = half_at_or_above(max_step / 63);
  const float d = half_to_float(d_h);
  store_u16(b.d, d_h);
  store_u16(b.dmin, dmin_h);
  std::memset(b.scales, 0, sizeof b.scales);
  for (int j = 0; j < 8; ++j) {
    ls[j] = d > 0 ? ceil_to_int(steps[j] / d, 63) : 0;
    if (j < 4) {
      b.scales[j] = static_cast<uint8_t>(ls[j]);
      b.scales[j + 4] = static_cast<uint8_t>(lm[j]);
    } else {  // the inverse of q4k_scale_min
      b.scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      b.scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
      b.scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
    }
  }
  uint8_t q[kQKK];
  for (int j = 0; j < 8; ++j) {
    const float step = d * ls[j], offset = dmin * lm[j];
    for (int l = 0; l < 32; ++l)
      q[32 * j + l] = step > 0 ? static_cast<uint8_t>(nearest_clamped((x[32 * j + l] + offset) / step, 0, 15)) : 0;
  }
  for (int chunk = 0; chunk < 4; ++chunk)
    for (int l = 0; l < 32; ++l)
      b.qs[32 * chunk + l] = static_cast<uint8_t>(q[64 * chunk + l] | (q[64 * chunk + 32 + l] << 4));
}

// Q6_K, simpler than llama.cpp's quantize_row_q6_K_ref (whose make_qx_quants searches each group's
// scale, signed so that the largest element lands on -32, and rounds the 8-bit scales to
// nearest): each group of 16 takes step max |x| / 31, the super-scale is rounded up to fp16 and
// the 8-bit scales up, so every q = round(x / step) lies in -31..31, never clamped; the error is
// at most half a step.
void quantize_q6_k(const float* x, BlockQ6K& b) {
  float steps[16], max_step = 0.0f;
  for (int g = 0; g < 16; ++g) {
    float amax = 0.0f;
    for (int l = 0; l < 16; ++l) amax = std::max(amax, std::fabs(x[16 * g + l]));
    steps[g] = amax / 31;
    max_step = std::max(max_step, steps[g]);
  }
  const uint16_t d_h = half_at_or_above(max_step / 127);
  const float d = half_to_float(d_h);
  store_u16(b.d, d_h);
  uint8_t q[kQKK];  // q + 32, 0..63
  for (int g = 0; g < 16; ++g) {
    const int ls = d > 0 ? ceil_to_int(steps[g] / d, 127) : 0;
    b.scales[g] = static_cast<int8_t>(ls);
    const float step = d * ls;
    for (int l = 0; l < 16; ++l)
      q[16 * g + l] = static_cast<uint8_t>(32 + (step > 0 ? nearest_clamped(x[16 * g + l] / step, -32, 31) : 0));
  }
  for (int half = 0; half < 2; ++half) {
    const uint8_t* h = q + 128 * half;
    for (int l = 0; l < 32; ++l) {
      b.ql[64 * half + l] = static_cast<uint8_t>((h[l] & 0xF) | ((h[l + 64] & 0xF) << 4));
      b.ql[64 * half + l + 32] = static_cast<uint8_t>((h[l + 32] & 0xF) | ((h[l + 96] & 0xF) << 4));
      b.qh[32 * half + l] = static_cast<uint8_t>((h[l] >> 4) | ((h[l + 32] >> 4) << 2) | ((h[l + 64] >> 4) << 4) |
                                                 ((h[l + 96] >> 4) << 6));
    }
  }
}

template <class Block>
const Block* blocks_at(const void* p) {
  return static_cast<const Block*>(p);
}

}  // namespace

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
  if (exponent == 0x1F)  // infinity, or a NaN made quiet (as F16C's vcvtph2ps and ggml do)
    return blocks_float(sign | 0x7F800000 | (mantissa != 0 ? 0x400000 | (mantissa << 13) : 0));
  if (exponent != 0) return blocks_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24, exact in a float.
  const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  return sign ? -magnitude : magnitude;
}

uint16_t float_to_half(float f) {
  const uint32_t bits = blocks_bits(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7FFFFFFF;
  if (magnitude > 0x7F800000) return sign | 0x7E00 | ((magnitude >> 13) & 0x3FF);  // NaN, kept quiet
  if (magnitude >= 0x477FF000) return sign | 0x7C00;                               // 65520 and above round to infinity
  if (magnitude >= 0x38800000)                                                     // a normal half (2^-14 and above)
    return sign | static_cast<uint16_t>(shift_round_even(magnitude - 0x38000000, 13));
  if (magnitude < 0x33000000) return sign;  // at most 2^-25: zero (2^-25 itself ties to even zero)
  // A subnormal half: the value in units of 2^-24, rounded.
  const uint32_t exponent = magnitude >> 23, mantissa = (magnitude & 0x7FFFFF) | 0x800000;
  return sign | static_cast<uint16_t>(shift_round_even(mantissa, static_cast<int>(126 - exponent)));
}

float bf16_to_float(uint16_t b) { return blocks_float(static_cast<uint32_t>(b) << 16); }

uint16_t float_to_bf16(float f) {
  const uint32_t bits = blocks_bits(f);
  if ((bits & 0x7FFFFFFF) > 0x7F800000) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN, quiet
  return static_cast<uint16_t>(shift_round_even(bits, 16));
}

void dequantize_row(WeightFormat f, const void* blocks, float* out, int64_t elements) {
  const int64_t bytes = storage_bytes(f, elements);  // throws for a partial block
  if (elements == 0) return;
  const int64_t count = elements / traits(f).block_elements;
  const auto* raw = static_cast<const uint8_t*>(blocks);
  switch (f) {
    case WeightFormat::f32:
      std::memcpy(out, blocks, static_cast<size_t>(bytes));
      return;
    case WeightFormat::f16:
      for (int64_t i = 0; i < count; ++i) out[i] = half_to_float(load_u16(raw + 2 * i));
      return;
    case WeightFormat::bf16:
      for (int64_t i = 0; i < count; ++i) out[i] = bf16_to_float(load_u16(raw + 2 * i));
      return;
    case WeightFormat::q8_0:
      for (int64_t i = 0; i < count; ++i) dequantize_q8_0(blocks_at<BlockQ8_0>(blocks)[i], out + kQK * i);
      return;
    case WeightFormat::q4_0:
      for (int64_t i = 0; i < count; ++i) dequantize_q4_0(blocks_at<BlockQ4_0>(blocks)[i], out + kQK * i);
      return;
    case WeightFormat::q4_k:
      for (int64_t i = 0; i < count; ++i) dequantize_q4_k(blocks_at<BlockQ4K>(blocks)[i], out + kQKK * i);
      return;
    case WeightFormat::q6_k:
      for (int64_t i = 0; i < count; ++i) dequantize_q6_k(blocks_at<BlockQ6K>(blocks)[i], out + kQKK * i);
      return;
  }
}

void quantize_row(WeightFormat f, const float* in, void* blocks, int64_t elements) {
  const int64_t bytes = storage_bytes(f, elements);  // throws for a partial block
  if (elements == 0) return;
  const int64_t count = elements / traits(f).block_elements;
  auto* raw = static_cast<uint8_t*>(blocks);
  switch (f) {
    case WeightFormat::f32:
      std::memcpy(blocks, in, static_cast<size_t>(bytes));
      return;
    case WeightFormat::f16:
      for (int64_t i = 0; i < count; ++i) store_u16(raw + 2 * i, float_to_half(in[i]));
      return;
    case WeightFormat::bf16:
      for (int64_t i = 0; i < count; ++i) store_u16(raw + 2 * i, float_to_bf16(in[i]));
      return;
    case WeightFormat::q8_0:
      for (int64_t i = 0; i < count; ++i) quantize_q8_0(in + kQK * i, static_cast<BlockQ8_0*>(blocks)[i]);
      return;
    case WeightFormat::q4_0:
      for (int64_t i = 0; i < count; ++i) quantize_q4_0(in + kQK * i, static_cast<BlockQ4_0*>(blocks)[i]);
      return;
    case WeightFormat::q4_k:
      for (int64_t i = 0; i < count; ++i) quantize_q4_k(in + kQKK * i, static_cast<BlockQ4K*>(blocks)[i]);
      return;
    case WeightFormat::q6_k:
      for (int64_t i = 0; i < count; ++i) quantize_q6_k(in + kQKK * i, static_cast<BlockQ6K*>(blocks)[i]);
      return;
  }
}

}  // namespace mlspeed::quant
