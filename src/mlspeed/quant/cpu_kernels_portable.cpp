// The kernels in plain C++, for any CPU: the same integer arithmetic as the vector variants
// (cpu_kernels_internal.h), one element at a time.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "mlspeed/quant/block_layout.h"
#include "mlspeed/quant/blocks.h"
#include "mlspeed/quant/cpu_kernels_internal.h"

namespace mlspeed::quant::kernels {
namespace {

// Round to nearest, ties to even, by the float adder (|v| <= 2^22): adding 1.5 * 2^23 leaves the
// integer in the low mantissa bits (no library call, and it vectorises).
inline int portable_nearest(float v) {
  const float shifted = v + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return bits - 0x4B400000;
}

// `count` floats to int8 with one scale; returns the scale.
float portable_quantize_run(const float* x, int count, int8_t* q) {
  float amax = 0.0f;
  for (int j = 0; j < count; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127, id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < count; ++j) q[j] = static_cast<int8_t>(portable_nearest(x[j] * id));
  return d;
}

int portable_sum(const int8_t* q, int count) {
  int sum = 0;
  for (int j = 0; j < count; ++j) sum += q[j];
  return sum;
}

float portable_dot_float(WeightFormat f, const uint8_t* w, const float* x, int64_t cols) {
  float sum = 0.0f;
  if (f == WeightFormat::f32) {
    for (int64_t c = 0; c < cols; ++c) {
      float v;
      std::memcpy(&v, w + 4 * c, sizeof v);
      sum += v * x[c];
    }
  } else if (f == WeightFormat::f16) {
    for (int64_t c = 0; c < cols; ++c) sum += half_to_float(load_u16(w + 2 * c)) * x[c];
  } else {
    for (int64_t c = 0; c < cols; ++c) sum += bf16_to_float(load_u16(w + 2 * c)) * x[c];
  }
  return sum;
}

float portable_dot_q8_0(const BlockQ8_0* w, int64_t blocks, const int8_t* q, const float* d) {
  float sum = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, q += kQK) {
    int32_t dot = 0;
    for (int j = 0; j < kQK; ++j) dot += w[b].qs[j] * q[j];
    sum += half_to_float(load_u16(w[b].d)) * d[b] * static_cast<float>(dot);
  }
  return sum;
}

// The nibbles count from 0 to 15; the input's sum (its bias) takes the 8 back out. Loops of a
// fixed 16 or 32 that a compiler can vectorise.
float portable_dot_q4_0(const BlockQ4_0* w, int64_t blocks, const int8_t* q, const float* d, const int32_t* bias) {
  float sum = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, q += kQK, bias += 8) {
    int32_t dot = 0;
    for (int j = 0; j < kQK / 2; ++j) dot += (w[b].qs[j] & 0xF) * q[j] + (w[b].qs[j] >> 4) * q[j + kQK / 2];
    for (int g = 0; g < 8; ++g) dot += bias[g];
    sum += half_to_float(load_u16(w[b].d)) * d[b] * static_cast<float>(dot);
  }
  return sum;
}

// Per super-block: d sum_j sc_j (q_j . x_j) - dmin sum_j m_j sum(x_j), all in units of x's scale.
float portable_dot_q4_k(const BlockQ4K* w, int64_t blocks, const int8_t* q, const float* d, const int16_t* sum32) {
  float sum = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, q += kQKK, sum32 += 8) {
    const Q4kScales packed = q4k_unpack_scales(w[b].scales);
    int scales[8], mins[8];
    for (int j = 0; j < 8; ++j) scales[j] = (packed.scales >> 8 * j) & 0xFF, mins[j] = (packed.mins >> 8 * j) & 0xFF;
    int32_t dot = 0, offset = 0;
    for (int chunk = 0; chunk < 4; ++chunk) {
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (w[b].qs[32 * chunk + l] & 0xF) * q[64 * chunk + l];
        hi += (w[b].qs[32 * chunk + l] >> 4) * q[64 * chunk + 32 + l];
      }
      dot += scales[2 * chunk] * lo + scales[2 * chunk + 1] * hi;
    }
    for (int j = 0; j < 8; ++j) offset += mins[j] * sum32[j];
    sum += half_to_float(load_u16(w[b].d)) * d[b] * static_cast<float>(dot) -
           half_to_float(load_u16(w[b].dmin)) * d[b] * static_cast<float>(offset);
  }
  return sum;
}

// Run k (0-3) of a half-block's 32-element runs: low 4 bits from ql's bytes k % 2 * 32 on,
// shifted by k / 2 * 4; high 2 bits from qh, shifted by 2 k.
float portable_dot_q6_k(const BlockQ6K* w, int64_t blocks, const int8_t* q, const float* d) {
  float sum = 0.0f;
  for (int64_t b = 0; b < blocks; ++b, q += kQKK) {
    int32_t dot = 0;
    for (int half = 0; half < 2; ++half) {
      const uint8_t* qh = w[b].qh + 32 * half;
      for (int k = 0; k < 4; ++k) {
        const uint8_t* ql = w[b].ql + 64 * half + 32 * (k % 2);
        const int8_t* x = q + 128 * half + 32 * k;
        const int low_shift = 4 * (k / 2), high_shift = 2 * k;
        for (int g = 0; g < 2; ++g) {  // the two scale groups of 16
          int32_t group = 0;
          for (int l = 16 * g; l < 16 * g + 16; ++l)
            group += ((((ql[l] >> low_shift) & 0xF) | (((qh[l] >> high_shift) & 3) << 4)) - 32) * x[l];
          dot += w[b].scales[8 * half + 2 * k + g] * group;
        }
      }
    }
    sum += half_to_float(load_u16(w[b].d)) * d[b] * static_cast<float>(dot);
  }
  return sum;
}

float portable_dot(const Job& job, const uint8_t* row, int64_t v) {
  const Inputs& in = *job.in;
  const int64_t cols = in.cols, blocks = cols / traits(job.format).block_elements;
  const int8_t* q = in.q + v * cols;
  switch (job.format) {
    case WeightFormat::f32:
    case WeightFormat::f16:
    case WeightFormat::bf16:
      return portable_dot_float(job.format, row, in.x + v * cols, cols);
    case WeightFormat::q8_0:
      return portable_dot_q8_0(reinterpret_cast<const BlockQ8_0*>(row), blocks, q, in.d + v * blocks);
    case WeightFormat::q4_0:
      return portable_dot_q4_0(reinterpret_cast<const BlockQ4_0*>(row), blocks, q, in.d + v * blocks,
                               in.bias + v * cols / 4);
    case WeightFormat::q4_k:
      return portable_dot_q4_k(reinterpret_cast<const BlockQ4K*>(row), blocks, q, in.d + v * blocks,
                               in.sum32 + v * cols / 32);
    case WeightFormat::q6_k:
      return portable_dot_q6_k(reinterpret_cast<const BlockQ6K*>(row), blocks, q, in.d + v * blocks);
  }
  return 0.0f;
}

}  // namespace

void quantize_input_portable(WeightFormat f, const float* x, int64_t elements, const InputArrays& out) {
  if (traits(f).block_elements == kQKK) {
    for (int64_t b = 0; b < elements / kQKK; ++b)
      out.d[b] = portable_quantize_run(x + kQKK * b, kQKK, out.q + kQKK * b);
    for (int64_t g = 0; g < elements / 16; ++g) out.sum16[g] = static_cast<int16_t>(portable_sum(out.q + 16 * g, 16));
    for (int64_t g = 0; g < elements / 32; ++g)
      out.sum32[g] = static_cast<int16_t>(out.sum16[2 * g] + out.sum16[2 * g + 1]);
    return;
  }
  const int bias_unit = f == WeightFormat::q8_0 ? -128 : -8;  // the weights' offset (cpu_kernels_internal.h)
  for (int64_t b = 0; b < elements / kQK; ++b) {
    out.d[b] = portable_quantize_run(x + kQK * b, kQK, out.q + kQK * b);
    for (int g = 0; g < 8; ++g) out.bias[8 * b + g] = bias_unit * portable_sum(out.q + kQK * b + 4 * g, 4);
  }
}

void rows_portable(const Job& job, int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r)
    for (int64_t v = 0; v < job.in->n; ++v)
      job.y[v * job.rows + r] = portable_dot(job, job.weight + r * job.row_bytes, v);
}

}  // namespace mlspeed::quant::kernels
