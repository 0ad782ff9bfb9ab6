// ggml's block structs (ggml-common.h), for the code of this folder that reads and writes them:
// blocks.cpp and the CPU kernels. The sizes are core/weight_format.h's table; the static_asserts
// hold the two together. Every field is a byte array, so a block may sit at any address (an
// 18-byte q4_0 block is only 2-aligned in a file, and a caller's buffer may not be even that):
// the 16-bit scales are read with load_u16, little-endian as ggml writes them.
#pragma once

#include <cstdint>
#include <cstring>

namespace mlspeed::quant {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ggml's blocks are little-endian, read as they lie");

inline constexpr int kQK = 32;    // elements of a q8_0 or q4_0 block
inline constexpr int kQKK = 256;  // elements of a q4_k or q6_k super-block

struct BlockQ8_0 {
  uint8_t d[2];  // fp16 scale
  int8_t qs[32];
};

struct BlockQ4_0 {
  uint8_t d[2];    // fp16 scale
  uint8_t qs[16];  // element j in the low nibble of qs[j], element j + 16 in its high nibble
};

struct BlockQ4K {
  uint8_t d[2], dmin[2];  // fp16 scales of the sub-blocks' scales and of their mins
  uint8_t scales[12];     // 6-bit scale and min of 8 sub-blocks of 32 (see q4k_scale_min)
  uint8_t qs[128];        // per 64 elements: 32 bytes, low nibbles the first 32, high the next
};

struct BlockQ6K {
  uint8_t ql[128];    // low 4 bits
  uint8_t qh[64];     // high 2 bits
  int8_t scales[16];  // one per 16 elements
  uint8_t d[2];       // fp16 super-block scale
};

static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4K) == 144 && sizeof(BlockQ6K) == 210,
              "the block sizes of core/weight_format.h's table");

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, sizeof v); }

// ggml's get_scale_min_k4: sub-blocks 0-3 keep their 6-bit scale and min in the low bits of
// bytes j and j + 4; sub-blocks 4-7 keep the low 4 bits in byte j + 4's nibbles and the top 2 in
// the spare high bits of bytes j - 4 (scale) and j (min).
inline void q4k_scale_min(int j, const uint8_t* scales, int& sc, int& m) {
  if (j < 4) {
    sc = scales[j] & 63;
    m = scales[j + 4] & 63;
  } else {
    sc = (scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4);
    m = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// All 8 at once, as the kernels want them: byte j of `scales` and of `mins` is sub-block j's, the
// same bits moved 4 bytes at a time, in registers (a kernel loads them straight into a vector).
struct Q4kScales {
  uint64_t scales, mins;
};

inline Q4kScales q4k_unpack_scales(const uint8_t* packed) {
  uint32_t w[3];
  std::memcpy(w, packed, sizeof w);
  const uint32_t low6 = 0x3F3F3F3F, low4 = 0x0F0F0F0F, bits45 = 0x30303030;
  const uint64_t scales_hi = (w[2] & low4) | ((w[0] >> 2) & bits45);  // sub-blocks 4-7
  const uint64_t mins_hi = ((w[2] >> 4) & low4) | ((w[1] >> 2) & bits45);
  return {(w[0] & low6) | scales_hi << 32, (w[1] & low6) | mins_hi << 32};
}

}  // namespace mlspeed::quant
