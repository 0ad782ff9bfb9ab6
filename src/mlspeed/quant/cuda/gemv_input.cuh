// Device-side writing of the matrix-vector kernels' quantised input (quant_kernels.cuh's
// GemvInput), shared by quantize_gemv_input and by the fused kernels of a decode step (fused/cuda),
// which write their outputs in this form so that the product needs no kernel of its own to
// quantise them. One definition of the rounding: every producer gives the same bytes for the same
// values.
#pragma once

#include <cstdint>

namespace mlspeed::quant::gpu {

inline constexpr int kGemvInputRun = 32;  // input values per scale

// int8 q = round(value / scale) (roundf: halves away from zero, as ggml's quantize_q8_1; the clamp
// only guards a NaN or an infinity from an undefined conversion); 0 for a run of zeros.
__device__ __forceinline__ int cuq_quantize_value(float value, float scale) {
  return scale > 0.0f ? static_cast<int>(fminf(fmaxf(roundf(value / scale), -127.0f), 127.0f)) : 0;
}

// One run of 32 values, lane i of a full warp holding value i: int8 q = round(value / d) with
// d = max |value| / 127 (cuq_quantize_value), the run's scale and the sum of its q.
__device__ __forceinline__ void cuq_write_input_run(float value, int lane, int64_t run, int8_t* q, float* d,
                                                    int32_t* sum) {
  constexpr unsigned kFull = 0xFFFFFFFFu;
  float amax = fabsf(value);
  for (int o = 16; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(kFull, amax, o));
  const float scale = amax / 127.0f;
  const int qv = cuq_quantize_value(value, scale);
  int total = qv;
  for (int o = 16; o > 0; o >>= 1) total += __shfl_xor_sync(kFull, total, o);
  q[run * kGemvInputRun + lane] = static_cast<int8_t>(qv);
  if (lane == 0) {
    d[run] = scale;
    sum[run] = total;
  }
}

// The same run held by 4 consecutive lanes (quarter q = lane & 3 holds values 8q..8q + 7), every
// lane of the warp taking part in the shuffles: the same bytes as cuq_write_input_run for the same
// values, written 8 at a time. A group with run < 0 takes part and writes nothing.
__device__ __forceinline__ void cuq_write_input_run8(const float (&value)[8], int64_t run, int8_t* q, float* d,
                                                     int32_t* sum) {
  constexpr unsigned kFull = 0xFFFFFFFFu;
  float amax = 0.0f;
#pragma unroll
  for (int i = 0; i < 8; ++i) amax = fmaxf(amax, fabsf(value[i]));
  for (int o = 1; o < 4; o <<= 1) amax = fmaxf(amax, __shfl_xor_sync(kFull, amax, o));
  const float scale = amax / 127.0f;
  int total = 0;
  uint32_t packed[2] = {0, 0};
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int qv = cuq_quantize_value(value[i], scale);
    total += qv;
    packed[i >> 2] |= (static_cast<uint32_t>(qv) & 0xFFu) << (8 * (i & 3));
  }
  for (int o = 1; o < 4; o <<= 1) total += __shfl_xor_sync(kFull, total, o);
  const int quarter = static_cast<int>(threadIdx.x & 3);
  if (run < 0) return;
  *reinterpret_cast<uint2*>(q + run * kGemvInputRun + 8 * quarter) = make_uint2(packed[0], packed[1]);
  if (quarter == 0) {
    d[run] = scale;
    sum[run] = total;
  }
}

}  // namespace mlspeed::quant::gpu
