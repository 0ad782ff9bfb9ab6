// ggml's blocks, decoded from bytes written by hand (the expected floats worked out by hand in the
// comments), encoded from hand-picked floats (ggml's bytes for q8_0 and q4_0, ties included),
// round trips of random data within each format's error bound, and the 16-bit float conversions
// at their edges: subnormals, the largest values, infinities, NaN, ties.
#include "mlspeed/quant/blocks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace mlspeed {
namespace {

using quant::bf16_to_float;
using quant::float_to_bf16;
using quant::float_to_half;
using quant::half_to_float;

std::vector<float> decoded_blocks(WeightFormat f, const std::vector<uint8_t>& bytes) {
  const int64_t elements = static_cast<int64_t>(bytes.size()) / traits(f).block_bytes * traits(f).block_elements;
  std::vector<float> out(static_cast<size_t>(elements));
  quant::dequantize_row(f, bytes.data(), out.data(), elements);
  return out;
}

std::vector<uint8_t> encoded_blocks(WeightFormat f, const std::vector<float>& values) {
  std::vector<uint8_t> out(static_cast<size_t>(storage_bytes(f, static_cast<int64_t>(values.size()))));
  quant::quantize_row(f, values.data(), out.data(), static_cast<int64_t>(values.size()));
  return out;
}

TEST(HalfFloats, DecodeExactly) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(half_to_float(0xC000), -2.0f);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);          // 2^-2 * (1 + 341/1024)
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0f);                 // the largest
  EXPECT_EQ(half_to_float(0x0400), 6.103515625e-05f);         // 2^-14, the smallest normal
  EXPECT_EQ(half_to_float(0x03FF), 6.0975551605224609e-05f);  // 1023 * 2^-24, the largest subnormal
  EXPECT_EQ(half_to_float(0x0001), 5.9604644775390625e-08f);  // 2^-24, the smallest
  EXPECT_EQ(half_to_float(0x8001), -5.9604644775390625e-08f);
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)) && half_to_float(0x8000) == 0.0f);
  EXPECT_EQ(half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7C01)));  // a signalling NaN stays a NaN
}

TEST(HalfFloats, EncodeRoundingToNearestEven) {
  EXPECT_EQ(float_to_half(1.0f), 0x3C00);
  EXPECT_EQ(float_to_half(-2.0f), 0xC000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f), 0x3C00);            // halfway to 0x3C01: to the even one
  EXPECT_EQ(float_to_half(1.0f + 3 * 0x1p-11f), 0x3C02);        // halfway from 0x3C01 to 0x3C02
  EXPECT_EQ(float_to_half(1.0f + 0x1p-11f + 0x1p-20f), 0x3C01); // just past halfway
  EXPECT_EQ(float_to_half(65504.0f), 0x7BFF);
  EXPECT_EQ(float_to_half(65519.996f), 0x7BFF);                 // below halfway to 65536
  EXPECT_EQ(float_to_half(65520.0f), 0x7C00);                   // halfway: the even neighbour is infinity
  EXPECT_EQ(float_to_half(1e6f), 0x7C00);
  EXPECT_EQ(float_to_half(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(float_to_half(0x1p-14f), 0x0400);
  EXPECT_EQ(float_to_half(0x1p-14f - 0x1p-24f), 0x03FF);        // the largest subnormal
  EXPECT_EQ(float_to_half(0x1p-14f - 0x1p-25f), 0x0400);        // halfway from 0x03FF: to 0x0400
  EXPECT_EQ(float_to_half(0x1p-24f), 0x0001);
  EXPECT_EQ(float_to_half(-0x1p-24f), 0x8001);
  EXPECT_EQ(float_to_half(0x1p-25f), 0x0000);                   // halfway from 0 to 0x0001: to 0
  EXPECT_EQ(float_to_half(0x1.000002p-25f), 0x0001);            // just past it
  EXPECT_EQ(float_to_half(3 * 0x1p-25f), 0x0002);               // 1.5 * 2^-24: halfway, to 2
  EXPECT_EQ(float_to_half(0x1p-26f), 0x0000);
  const uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE((nan & 0x7C00) == 0x7C00 && (nan & 0x3FF) != 0);
  uint32_t low_payload = 0x7F800001;  // a NaN whose payload lies only in bits a half drops
  float low_nan;
  std::memcpy(&low_nan, &low_payload, sizeof low_nan);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(low_nan))));
}

TEST(HalfFloats, EveryHalfSurvivesTheRoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0) continue;  // NaNs: checked above
    ASSERT_EQ(float_to_half(half_to_float(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
}

TEST(Bfloat16, DecodesAndEncodesRoundingToNearestEven) {
  EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_float(0xC040), -3.0f);
  EXPECT_EQ(bf16_to_float(0x3EAB), 0.333984375f);           // 2^-2 * (1 + 43/128)
  EXPECT_EQ(bf16_to_float(0x7F7F), 3.3895313892515355e38f);  // the largest: 2^127 * (1 + 127/128)
  EXPECT_EQ(bf16_to_float(0x0001), 0x1p-133f);               // the smallest subnormal
  EXPECT_EQ(bf16_to_float(0xFF80), -std::numeric_limits<float>::infinity());
  EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bf16(1.0f + 0x1p-8f), 0x3F80);            // halfway: to the even one
  EXPECT_EQ(float_to_bf16(1.0f + 3 * 0x1p-8f), 0x3F82);        // halfway from 0x3F81: to 0x3F82
  EXPECT_EQ(float_to_bf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3F81);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to infinity
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(float_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_bf16(0x1p-133f), 0x0001);
  uint32_t low_payload = 0x7F800001;  // rounding alone would make this NaN infinity
  float low_nan;
  std::memcpy(&low_nan, &low_payload, sizeof low_nan);
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(low_nan))));
  for (uint32_t b = 0; b < 0x10000; ++b) {
    if ((b & 0x7F80) == 0x7F80 && (b & 0x7F) != 0) continue;  // NaNs: checked above
    ASSERT_EQ(float_to_bf16(bf16_to_float(static_cast<uint16_t>(b))), b) << std::hex << b;
  }
}

TEST(Blocks, PlainFormatsDecode) {
  // f16: 1, -2, 65504, 2^-24, -infinity; bf16: 1, -3; f32 as it lies.
  EXPECT_EQ(decoded_blocks(WeightFormat::f16, {0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00, 0x00, 0xFC}),
            (std::vector<float>{1.0f, -2.0f, 65504.0f, 0x1p-24f, -std::numeric_limits<float>::infinity()}));
  EXPECT_EQ(decoded_blocks(WeightFormat::bf16, {0x80, 0x3F, 0x40, 0xC0}), (std::vector<float>{1.0f, -3.0f}));
  EXPECT_EQ(decoded_blocks(WeightFormat::f32, {0x00, 0x00, 0xC0, 0x3F}), (std::vector<float>{1.5f}));
}

TEST(Blocks, Q8_0Decodes) {
  // d = 0.5 (fp16 0x3800); q = -128, -127, -1, 0, 1, 127, then 6..31: x = q / 2.
  std::vector<uint8_t> block = {0x00, 0x38, 0x80, 0x81, 0xFF, 0x00, 0x01, 0x7F};
  for (int j = 6; j < 32; ++j) block.push_back(static_cast<uint8_t>(j));
  const std::vector<float> x = decoded_blocks(WeightFormat::q8_0, block);
  ASSERT_EQ(x.size(), 32u);
  EXPECT_EQ(std::vector<float>(x.begin(), x.begin() + 8),
            (std::vector<float>{-64.0f, -63.5f, -0.5f, 0.0f, 0.5f, 63.5f, 3.0f, 3.5f}));
  EXPECT_EQ(x[31], 15.5f);
}

TEST(Blocks, Q4_0Decodes) {
  // d = -2 (fp16 0xC000); byte j holds element j (low nibble j) and element j + 16 (high nibble
  // 15 - j). x = -2 (q - 8): elements 0-15 are 16 - 2j, elements 16-31 are 2j - 14.
  const std::vector<uint8_t> block = {0x00, 0xC0, 0xF0, 0xE1, 0xD2, 0xC3, 0xB4, 0xA5, 0x96, 0x87,
                                      0x78, 0x69, 0x5A, 0x4B, 0x3C, 0x2D, 0x1E, 0x0F};
  EXPECT_EQ(decoded_blocks(WeightFormat::q4_0, block),
            (std::vector<float>{16, 14, 12, 10, 8, 6, 4, 2, 0, -2, -4, -6, -8, -10, -12, -14,
                                -14, -12, -10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10, 12, 14, 16}));
}

TEST(Blocks, Q4_KDecodes) {
  // d = 0.5 (0x3800), dmin = 0.25 (0x3400); sub-block scales 1 2 3 4 17 33 48 63, mins 0 5 10 15
  // 20 40 50 62, packed: bytes 0-3 scales 0-3 | (scales 4-7 >> 4) << 6, bytes 4-7 mins 0-3 |
  // (mins 4-7 >> 4) << 6, bytes 8-11 (scale & 15) | (min & 15) << 4 of sub-blocks 4-7.
  std::vector<uint8_t> block = {0x00, 0x38, 0x00, 0x34, 0x41, 0x82, 0xC3, 0xC4, 0x40,
                                0x85, 0xCA, 0xCF, 0x41, 0x81, 0x20, 0xEF};
  // 4 runs of 32 bytes; byte l: low nibble l % 16 (sub-block 2c, element l), high nibble l / 2
  // (sub-block 2c + 1, element l); the last run's byte 0 is 0x5A instead.
  for (int c = 0; c < 4; ++c)
    for (int l = 0; l < 32; ++l) block.push_back(static_cast<uint8_t>((l % 16) | ((l / 2) << 4)));
  block[16 + 96] = 0x5A;
  ASSERT_EQ(block.size(), 144u);
  const std::vector<float> x = decoded_blocks(WeightFormat::q4_k, block);  // x = 0.5 sc q - 0.25 m
  EXPECT_EQ(x[0], 0.0f);       // sub-block 0, q 0
  EXPECT_EQ(x[17], 0.5f);      // sub-block 0, q 1: 0.5
  EXPECT_EQ(x[31], 7.5f);      // q 15: 7.5
  EXPECT_EQ(x[32], -1.25f);    // sub-block 1, q 0: -0.25 * 5
  EXPECT_EQ(x[63], 13.75f);    // q 15: 0.5 * 2 * 15 - 1.25
  EXPECT_EQ(x[73], 11.0f);     // sub-block 2, q 9: 13.5 - 2.5
  EXPECT_EQ(x[116], 16.25f);   // sub-block 3, q 10: 20 - 3.75
  EXPECT_EQ(x[135], 54.5f);    // sub-block 4, q 7: 0.5 * 17 * 7 - 5
  EXPECT_EQ(x[190], 237.5f);   // sub-block 5, q 15: 247.5 - 10
  EXPECT_EQ(x[192], 227.5f);   // sub-block 6, q 10 (0x5A's low nibble): 240 - 12.5
  EXPECT_EQ(x[193], 11.5f);    // q 1: 24 - 12.5
  EXPECT_EQ(x[224], 142.0f);   // sub-block 7, q 5 (0x5A's high nibble): 157.5 - 15.5
  EXPECT_EQ(x[255], 457.0f);   // q 15: 472.5 - 15.5
}

TEST(Blocks, Q6_KDecodes) {
  // ql[128], qh[64], scales[16], d = 0.25 (0x3400). Per 128 elements: ql bytes 0-31 give the low
  // 4 bits of elements 0-31 (low nibble) and 64-95 (high), bytes 32-63 those of 32-63 and
  // 96-127; qh bits 0-1, 2-3, 4-5, 6-7 the high 2 bits of elements 0-31, 32-63, 64-95, 96-127.
  std::vector<uint8_t> block;
  for (uint8_t ql : {0x21, 0x43, 0x65, 0x87}) block.insert(block.end(), 32, ql);
  for (uint8_t qh : {0xE4, 0x1B}) block.insert(block.end(), 32, qh);  // 0 1 2 3 and 3 2 1 0
  for (int sc : {1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -128}) block.push_back(static_cast<uint8_t>(sc));
  block.push_back(0x00);
  block.push_back(0x34);
  block[5] = 0x2F;         // element 5: low bits 15
  block[128 + 32 + 10] = 0xDB;  // element 234: high bits 3 (bits 6-7)
  ASSERT_EQ(block.size(), 210u);
  // Group g's 16 elements: 0.25 sc_g (q - 32). q: 1 (low 1, high 0), 19 (3 | 1 << 4), 34, 52 in the
  // first 128; 53 (5 | 3 << 4), 39, 22, 8 in the second.
  const float groups[16] = {-7.75f, 7.75f,   -6.5f, 6.5f,   1.5f,   -1.5f, 20.0f, -20.0f,
                            26.25f, -26.25f, 10.5f, -10.5f, -17.5f, 17.5f, -48.0f, 768.0f};
  const std::vector<float> x = decoded_blocks(WeightFormat::q6_k, block);
  for (int e = 0; e < 256; ++e) {
    if (e == 5) EXPECT_EQ(x[e], -4.25f);       // q 15: 0.25 * 1 * -17
    else if (e == 234) EXPECT_EQ(x[e], 48.0f);  // q 56: 0.25 * 8 * 24
    else EXPECT_EQ(x[e], groups[e / 16]) << "element " << e;
  }
}

TEST(Blocks, Q8_0AndQ4_0EncodeAsGgml) {
  // q8_0: max |x| 127, so d = 1 (0x3C00); round halves away from zero: 2.5 -> 3, -0.5 -> -1.
  std::vector<float> x(32, 0.0f);
  x[0] = 127, x[1] = 2.5f, x[2] = -2.5f, x[3] = 0.49f, x[4] = -127, x[5] = 1.5f, x[6] = -0.5f;
  std::vector<uint8_t> q8 = {0x00, 0x3C, 0x7F, 0x03, 0xFD, 0x00, 0x81, 0x02, 0xFF};
  q8.resize(34, 0x00);
  EXPECT_EQ(encoded_blocks(WeightFormat::q8_0, x), q8);
  // q4_0: the first element of largest magnitude, -8, gives d = -8 / -8 = 1; x[16] = 8 is as
  // large but later. q = min(15, trunc(x + 8.5)): -8 -> 0, 0.5 -> 9, -0.5 -> 8, 7.6 -> 15,
  // 7 -> 15, -7.9 -> 0, 2.49 -> 10, 8 -> 15, -1 -> 7, 0 -> 8.
  std::fill(x.begin(), x.end(), 0.0f);
  x[0] = -8, x[1] = 0.5f, x[2] = -0.5f, x[3] = 7.6f, x[4] = 7, x[5] = -7.9f, x[6] = 2.49f, x[16] = 8, x[17] = -1;
  std::vector<uint8_t> q4 = {0x00, 0x3C, 0xF0, 0x79, 0x88, 0x8F, 0x8F, 0x80, 0x8A};
  q4.resize(18, 0x88);
  EXPECT_EQ(encoded_blocks(WeightFormat::q4_0, x), q4);
  // All zeros: d = 0 / -8, negative zero (0x8000), every q the middle, 8.
  std::vector<uint8_t> zero4(18, 0x88);
  zero4[0] = 0x00, zero4[1] = 0x80;
  EXPECT_EQ(encoded_blocks(WeightFormat::q4_0, std::vector<float>(32, 0.0f)), zero4);
}

// Random rows: per block a magnitude from 1e-3 to 1e3, a block of zeros, a constant negative
// block (q4_k's min with no range above it).
std::vector<float> random_block_row(int64_t elements, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(elements));
  for (int64_t b = 0; b < elements / 32; ++b) {
    const float scale = std::pow(10.0f, static_cast<float>(b % 7) - 3.0f);
    for (int j = 0; j < 32; ++j) x[32 * b + j] = b == 3 ? 0.0f : b == 5 ? -2.0f : scale * normal(rng);
  }
  return x;
}

// How far fp16 rounding may move a scale d: half an ulp, 2^-25 at least (subnormal halves).
float fp16_scale_rounding(float d) { return std::max(d * 0x1p-11f, 0x1p-25f); }

// q4_k's range of 32 elements: min(0, min x) to max(0, max x).
float sub_block_range(const float* x) {
  return std::max(0.0f, *std::max_element(x, x + 32)) - std::min(0.0f, *std::min_element(x, x + 32));
}

float block_max_abs(const float* x, int count) {
  float m = 0.0f;
  for (int j = 0; j < count; ++j) m = std::max(m, std::fabs(x[j]));
  return m;
}

// How far a round trip through format f may move x[i].
float round_trip_bound(WeightFormat f, const std::vector<float>& x, int64_t i) {
  const float* block = x.data() + i / 32 * 32;  // q8_0's, q4_0's, q4_k's sub-block
  const float* group = x.data() + i / 16 * 16;  // q6_k's scale group
  const float* super_block = x.data() + i / 256 * 256;
  switch (f) {
    case WeightFormat::f32:
      return 0.0f;
    case WeightFormat::f16:
      return std::fabs(x[i]) * 0x1p-11f + 0x1p-25f;  // half an ulp; subnormals 2^-25
    case WeightFormat::bf16:
      return std::fabs(x[i]) * 0x1p-8f;
    case WeightFormat::q8_0: {  // half a step d / 2, plus d's fp16 rounding times |q| <= 127
      const float d = block_max_abs(block, 32) / 127;
      return d / 2 + 127 * fp16_scale_rounding(d);
    }
    case WeightFormat::q4_0: {  // d = max / -8: half a step, but a step at the far end (16 clamped to 15)
      const float d = block_max_abs(block, 32) / 8;
      return d * (std::fabs(x[i]) > 7.5f * d ? 1.0f : 0.5f) + 8 * fp16_scale_rounding(d);
    }
    case WeightFormat::q4_k: {  // half of a 15th of the range, plus what the 6-bit scales add
      float largest = 0.0f;
      for (int j = 0; j < 8; ++j) largest = std::max(largest, sub_block_range(super_block + 32 * j));
      return sub_block_range(block) / 30 + largest / 900;
    }
    case WeightFormat::q6_k:  // half of a 31st of max |x|, plus what the 8-bit scales add
      return block_max_abs(group, 16) / 62 + block_max_abs(super_block, 256) / 7800;
  }
  return 0.0f;
}

TEST(Blocks, RoundTripsStayWithinEachFormatsBound) {
  const int64_t n = 256 * 16;
  const std::vector<float> x = random_block_row(n, 1);
  for (WeightFormat f : kAllWeightFormats) {
    SCOPED_TRACE(std::string(name(f)));
    const std::vector<float> y = decoded_blocks(f, encoded_blocks(f, x));
    ASSERT_EQ(y.size(), x.size());
    for (int64_t i = 0; i < n; ++i)
      ASSERT_LE(std::fabs(y[i] - x[i]), round_trip_bound(f, x, i) * 1.0001f + 1e-30f) << "element " << i << " " << x[i];
  }
}

TEST(Blocks, RefuseAnElementCountOfPartialBlocks) {
  std::vector<uint8_t> bytes(1024);
  std::vector<float> floats(512);
  EXPECT_THROW(quant::dequantize_row(WeightFormat::q4_0, bytes.data(), floats.data(), 33), std::invalid_argument);
  EXPECT_THROW(quant::dequantize_row(WeightFormat::q6_k, bytes.data(), floats.data(), 128), std::invalid_argument);
  EXPECT_THROW(quant::quantize_row(WeightFormat::q4_k, floats.data(), bytes.data(), 300), std::invalid_argument);
  EXPECT_THROW(quant::quantize_row(WeightFormat::f16, floats.data(), bytes.data(), -2), std::invalid_argument);
  EXPECT_NO_THROW(quant::quantize_row(WeightFormat::q8_0, floats.data(), bytes.data(), 0));
}

}  // namespace
}  // namespace mlspeed
