#include "mlspeed/train/adamw_cpu.h"

#include <ATen/Parallel.h>

#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MLSPEED_ADAMW_X86 1
#define MLSPEED_ADAMW_AVX2 __attribute__((target("avx2,fma")))
#define MLSPEED_ADAMW_AVX512 __attribute__((target("avx512f")))
#endif

namespace mlspeed::train {
namespace {

// Elements [begin, end), one at a time: the portable pass and every vector pass's tail.
void adamw_elements(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                    const AdamWCpuStep& s) {
  for (int64_t i = begin; i < end; ++i) {
    const float mi = m[i] * s.beta1 + (1.0f - s.beta1) * g[i];
    const float vi = v[i] * s.beta2 + (1.0f - s.beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    if (s.update_params)
      p[i] = p[i] * s.decay - s.step_size * mi / (std::sqrt(vi) * s.inv_bias_correction2_sqrt + s.eps);
  }
}

#ifdef MLSPEED_ADAMW_X86
MLSPEED_ADAMW_AVX2 void adamw_avx2(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                                   const AdamWCpuStep& s) {
  const __m256 b1 = _mm256_set1_ps(s.beta1), c1 = _mm256_set1_ps(1.0f - s.beta1);
  const __m256 b2 = _mm256_set1_ps(s.beta2), c2 = _mm256_set1_ps(1.0f - s.beta2);
  const __m256 decay = _mm256_set1_ps(s.decay), step = _mm256_set1_ps(s.step_size);
  const __m256 inv_bc2 = _mm256_set1_ps(s.inv_bias_correction2_sqrt), eps = _mm256_set1_ps(s.eps);
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 gi = _mm256_loadu_ps(g + i);
    const __m256 mi = _mm256_fmadd_ps(_mm256_loadu_ps(m + i), b1, _mm256_mul_ps(c1, gi));
    const __m256 vi = _mm256_fmadd_ps(_mm256_loadu_ps(v + i), b2, _mm256_mul_ps(c2, _mm256_mul_ps(gi, gi)));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    if (!s.update_params) continue;
    const __m256 denom = _mm256_fmadd_ps(_mm256_sqrt_ps(vi), inv_bc2, eps);
    const __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), decay);
    _mm256_storeu_ps(p + i, _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(step, mi), denom)));
  }
  adamw_elements(p, g, m, v, i, end, s);
}

MLSPEED_ADAMW_AVX512 void adamw_avx512(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
                                       const AdamWCpuStep& s) {
  const __m512 b1 = _mm512_set1_ps(s.beta1), c1 = _mm512_set1_ps(1.0f - s.beta1);
  const __m512 b2 = _mm512_set1_ps(s.beta2), c2 = _mm512_set1_ps(1.0f - s.beta2);
  const __m512 decay = _mm512_set1_ps(s.decay), step = _mm512_set1_ps(s.step_size);
  const __m512 inv_bc2 = _mm512_set1_ps(s.inv_bias_correction2_sqrt), eps = _mm512_set1_ps(s.eps);
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    const __m512 gi = _mm512_loadu_ps(g + i);
    const __m512 mi = _mm512_fmadd_ps(_mm512_loadu_ps(m + i), b1, _mm512_mul_ps(c1, gi));
    const __m512 vi = _mm512_fmadd_ps(_mm512_loadu_ps(v + i), b2, _mm512_mul_ps(c2, _mm512_mul_ps(gi, gi)));
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    if (!s.update_params) continue;
    const __m512 denom = _mm512_fmadd_ps(_mm512_sqrt_ps(vi), inv_bc2, eps);
    const __m512 pi = _mm512_mul_ps(_mm512_loadu_ps(p + i), decay);
    _mm512_storeu_ps(p + i, _mm512_sub_ps(pi, _mm512_div_ps(_mm512_mul_ps(step, mi), denom)));
  }
  adamw_elements(p, g, m, v, i, end, s);
}
#endif

using Pass = void (*)(float*, const float*, float*, float*, int64_t, int64_t, const AdamWCpuStep&);

struct ChosenPass {
  Pass pass;
  const char* isa;
};

ChosenPass choose_pass() {
#ifdef MLSPEED_ADAMW_X86
  if (__builtin_cpu_supports("avx512f")) return {adamw_avx512, "avx512"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {adamw_avx2, "avx2"};
#endif
  return {adamw_elements, "portable"};
}

const ChosenPass& chosen() {
  static const ChosenPass pass = choose_pass();
  return pass;
}

}  // namespace

void adamw_cpu_pass(float* p, const float* g, float* m, float* v, int64_t n, const AdamWCpuStep& step) {
  const Pass pass = chosen().pass;
  // A grain of 64k floats: 1 MB of the four arrays a task, well past a thread's start-up.
  at::parallel_for(0, n, int64_t{1} << 16,
                   [&](int64_t begin, int64_t end) { pass(p, g, m, v, begin, end, step); });
}

const char* adamw_cpu_pass_isa() { return chosen().isa; }

}  // namespace mlspeed::train
