#include "mlspeed/quant/cpu_kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "mlspeed/quant/cpu_kernels_internal.h"

namespace mlspeed::quant {
namespace {

enum class KernelIsa { portable, avx2, avx512 };  // in order: each runs where the next does
constexpr const char* kKernelIsaNames[] = {"portable", "avx2", "avx512"};

KernelIsa best_kernel_isa() {
  static const KernelIsa best = kernels::cpu_runs_avx512() ? KernelIsa::avx512
                                : kernels::cpu_runs_avx2() ? KernelIsa::avx2
                                                           : KernelIsa::portable;
  return best;
}

// Read at every call, not once: a test runs each variant in one process.
KernelIsa chosen_kernel_isa() {
  const KernelIsa best = best_kernel_isa();
  const char* wanted = std::getenv("MLSPEED_QUANT_ISA");
  if (wanted == nullptr || *wanted == '\0') return best;
  for (int i = 0; i < 3; ++i)
    if (std::strcmp(wanted, kKernelIsaNames[i]) == 0) return std::min(best, static_cast<KernelIsa>(i));
  throw std::invalid_argument(std::string("MLSPEED_QUANT_ISA=") + wanted + ": expected portable, avx2 or avx512");
}

// The input vectors in the form kernels::Inputs describes, in one allocation with each array
// 64-byte aligned.
class PreparedInputs {
 public:
  PreparedInputs(WeightFormat f, const float* x, int64_t cols, int64_t n, KernelIsa isa) {
    in_.cols = cols;
    in_.n = n;
    in_.x = x;
    if (!traits(f).quantized) return;
    const bool k_quant = traits(f).block_elements == 256;
    const int64_t elements = cols * n;
    size_t size = 0;
    auto reserve = [&size](int64_t bytes) {
      const size_t offset = size;
      size = (size + static_cast<size_t>(bytes) + 63) / 64 * 64;
      return offset;
    };
    const size_t q_at = reserve(elements), d_at = reserve(elements / (k_quant ? 256 : 32) * 4);
    const size_t bias_at = reserve(k_quant ? 0 : elements), sum16_at = reserve(k_quant ? elements / 8 : 0);
    const size_t sum32_at = reserve(k_quant ? elements / 16 : 0);
    storage_.reset(new uint8_t[size + 64]);
    uint8_t* base = storage_.get() + (64 - reinterpret_cast<uintptr_t>(storage_.get()) % 64) % 64;
    const kernels::InputArrays arrays{reinterpret_cast<int8_t*>(base + q_at), reinterpret_cast<float*>(base + d_at),
                                      k_quant ? nullptr : reinterpret_cast<int32_t*>(base + bias_at),
                                      k_quant ? reinterpret_cast<int16_t*>(base + sum16_at) : nullptr,
                                      k_quant ? reinterpret_cast<int16_t*>(base + sum32_at) : nullptr};
    // The vectors lie end to end and no block straddles two: one run of cols * n quantises them all.
    if (isa == KernelIsa::portable)
      kernels::quantize_input_portable(f, x, elements, arrays);
    else
      kernels::quantize_input_avx2(f, x, elements, arrays);
    in_.q = arrays.q, in_.d = arrays.d, in_.bias = arrays.bias, in_.sum16 = arrays.sum16, in_.sum32 = arrays.sum32;
  }

  const kernels::Inputs& inputs() const { return in_; }

 private:
  kernels::Inputs in_;
  std::unique_ptr<uint8_t[]> storage_;
};

// Rows below this many bytes of work (weights, plus a byte per element for each further vector)
// stay on one thread: waking the pool costs microseconds, about what 64 KiB of weights take.
constexpr int64_t kParallelBytes = 64 * 1024;

}  // namespace

void gemm_rows(WeightFormat f, const void* weight, int64_t rows, int64_t cols, const float* x, int64_t n, float* y) {
  const int64_t row_bytes = storage_bytes(f, cols);  // throws unless whole blocks
  if (rows < 0 || n < 0)
    throw std::invalid_argument("gemm_rows: " + std::to_string(rows) + " rows, " + std::to_string(n) + " vectors");
  if (rows == 0 || n == 0) return;
  if (cols == 0) {
    std::fill(y, y + rows * n, 0.0f);
    return;
  }
  const KernelIsa isa = chosen_kernel_isa();
  const PreparedInputs prepared(f, x, cols, n, isa);
  const kernels::Job job{f, static_cast<const uint8_t*>(weight), row_bytes, rows, &prepared.inputs(), y};
  void (*run_rows)(const kernels::Job&, int64_t, int64_t) = isa == KernelIsa::avx512 ? kernels::rows_avx512
                                                            : isa == KernelIsa::avx2 ? kernels::rows_avx2
                                                                                     : kernels::rows_portable;
  // LibTorch's OpenMP backend is inline in <ATen/Parallel.h>: the rows are spread over threads
  // only where this file is compiled with -fopenmp; without it parallel_for runs them all here.
  const int64_t grain = std::max<int64_t>(1, kParallelBytes / (row_bytes + (n - 1) * cols));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) { run_rows(job, begin, end); });
}

void gemv(WeightFormat f, const void* weight, int64_t rows, int64_t cols, const float* x, float* y) {
  gemm_rows(f, weight, rows, cols, x, 1, y);
}

std::string cpu_kernel_isa() { return kKernelIsaNames[static_cast<int>(chosen_kernel_isa())]; }

}  // namespace mlspeed::quant
