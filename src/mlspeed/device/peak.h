// The peak FLOP/s that model FLOP utilisation is computed against.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "mlspeed/core/precision.h"

namespace mlspeed {

struct Peak {
  std::map<Precision, double> flops;  // FLOP/s per precision; absent = unknown
  std::string source;
  double bandwidth = 0;  // memory bandwidth, bytes/s (datasheet); 0 = unknown
};

// NVIDIA datasheet figures (dense, no sparsity) for the GPU LibTorch names `device_name`, e.g.
// "NVIDIA H100 80GB HBM3" -> H100 SXM5. nullopt for GPUs the table does not know.
std::optional<Peak> datasheet_peak(const std::string& device_name);

// The CPU has no useful datasheet figure (it depends on cores, clocks and the BLAS): measure
// the rate of a large matrix product through LibTorch with its current thread count, for each
// precision the CPU can multiply in. Takes about `seconds` in total.
Peak measure_cpu_peak(double seconds = 1.0);

// The best rate of copying a buffer of `bytes` into another on the CPU through LibTorch (with
// its current threads), counting bytes read plus bytes written, over about `seconds`.
double measure_cpu_copy_bandwidth(int64_t bytes = int64_t{256} << 20, double seconds = 0.3);

}  // namespace mlspeed
