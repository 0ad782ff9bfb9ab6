// AdamW's update of one float32 tensor on the CPU in one pass over its memory, where LibTorch has
// no fused AdamW for the CPU (before 2.4): its foreach kernels run the update tensor by tensor as
// about twenty elementwise passes over the weights, the gradient and the two moments, a fifth of
// ResNet-50's training step at one thread on a 2-core VM (results/2026-12-06-cpu-speed/). Each
// element here is read and written once, with AVX-512 or AVX2 where the CPU has them.
#pragma once

#include <cstdint>

namespace mlspeed::train {

// The step's constants (train/adamw.h's update):
//   p <- p * decay - step_size * m / (sqrt(v) * inv_bias_correction2_sqrt + eps)
// after m <- beta1 m + (1 - beta1) g and v <- beta2 v + (1 - beta2) g^2. update_params false:
// the moments move but the parameters do not (the verifier's optimizer-update-dropped fault).
struct AdamWCpuStep {
  float decay, beta1, beta2, step_size, inv_bias_correction2_sqrt, eps;
  bool update_params = true;
};

// p, m, v: n floats updated in place; g: n floats. Split over LibTorch's intra-op threads.
void adamw_cpu_pass(float* p, const float* g, float* m, float* v, int64_t n, const AdamWCpuStep& step);

// The instruction set adamw_cpu_pass takes on this CPU: "avx512", "avx2" or "portable".
const char* adamw_cpu_pass_isa();

}  // namespace mlspeed::train
