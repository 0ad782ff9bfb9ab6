#include "mlspeed/device/peak.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

struct DatasheetEntry {
  std::vector<std::string> must_contain;     // every substring must occur in the device name
  std::vector<std::string> must_not_contain;
  const char* product;
  double fp32, tf32, fp16, bf16;  // TFLOP/s, dense; 0 = not supported
  double bandwidth;               // memory bandwidth, TB/s
};

// Dense tensor-core figures and memory bandwidth from NVIDIA's product datasheets (the sparse
// figures are twice these). fp16/bf16 are with fp32 accumulation, which is what PyTorch uses.
// The first match wins, so more specific names come first.
const std::vector<DatasheetEntry>& datasheet() {
  static const std::vector<DatasheetEntry> table = {
      {{"H100", "NVL"}, {}, "H100 NVL", 60, 417.5, 835.5, 835.5, 3.9},
      {{"H100", "PCIe"}, {}, "H100 PCIe", 51, 378, 756, 756, 2.0},
      {{"H100"}, {}, "H100 SXM5", 67, 494.7, 989.4, 989.4, 3.35},
      {{"H200", "NVL"}, {}, "H200 NVL", 60, 417.5, 835.5, 835.5, 4.8},
      {{"H200"}, {}, "H200 SXM", 67, 494.7, 989.4, 989.4, 4.8},
      {{"GH200"}, {}, "GH200", 67, 494.7, 989.4, 989.4, 4.0},
      {{"A100", "80GB", "PCIe"}, {}, "A100 80GB PCIe", 19.5, 156, 312, 312, 1.935},
      {{"A100", "80GB"}, {}, "A100 80GB SXM", 19.5, 156, 312, 312, 2.039},
      {{"A100"}, {}, "A100 40GB", 19.5, 156, 312, 312, 1.555},
      {{"A10"}, {"A100", "A10G"}, "A10", 31.2, 62.5, 125, 125, 0.6},
      {{"L40S"}, {}, "L40S", 91.6, 183, 362.05, 362.05, 0.864},
      {{"L4"}, {"L40"}, "L4", 30.3, 60, 121, 121, 0.3},
      {{"RTX 4090"}, {}, "GeForce RTX 4090", 82.6, 82.6, 165.2, 165.2, 1.008},
      {{"RTX 3090"}, {}, "GeForce RTX 3090", 35.6, 35.6, 71, 71, 0.936},
      {{"V100", "PCIE"}, {}, "V100 PCIe", 14, 0, 112, 0, 0.9},
      {{"V100"}, {}, "V100 SXM2", 15.7, 0, 125, 0, 0.9},
      {{"T4"}, {}, "T4", 8.1, 0, 65, 0, 0.32},
  };
  return table;
}

bool name_contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Best rate of repeated n×n products within `seconds`.
double matmul_rate(at::ScalarType dtype, int64_t n, double seconds) {
  const auto a = at::randn({n, n}).to(dtype), b = at::randn({n, n}).to(dtype);
  at::mm(a, b);  // warm-up: thread pools, packing buffers
  double best = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    const auto start = std::chrono::steady_clock::now();
    at::mm(a, b);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * n * n * n / dt);
  } while (std::chrono::steady_clock::now() < deadline);
  return best;
}

}  // namespace

std::optional<Peak> datasheet_peak(const std::string& device_name) {
  for (const auto& e : datasheet()) {
    const bool all = std::all_of(e.must_contain.begin(), e.must_contain.end(),
                                 [&](const std::string& s) { return name_contains(device_name, s); });
    const bool none = std::none_of(e.must_not_contain.begin(), e.must_not_contain.end(),
                                   [&](const std::string& s) { return name_contains(device_name, s); });
    if (!all || !none) continue;
    Peak peak;
    peak.source = std::string("NVIDIA datasheet, ") + e.product + ", dense";
    const std::pair<Precision, double> rates[] = {{Precision::fp32, e.fp32}, {Precision::tf32, e.tf32},
                                                  {Precision::fp16, e.fp16}, {Precision::bf16, e.bf16}};
    for (const auto& [p, tflops] : rates)
      if (tflops > 0) peak.flops[p] = tflops * 1e12;
    peak.bandwidth = e.bandwidth * 1e12;
    return peak;
  }
  return std::nullopt;
}

Peak measure_cpu_peak(double seconds) {
  constexpr int64_t n = 1024;
  Peak peak;
  for (Precision precision : {Precision::fp32, Precision::bf16, Precision::fp16}) {
    try {
      peak.flops[precision] = matmul_rate(model_dtype(precision), n, seconds / 3);
    } catch (const c10::Error&) {
      // This LibTorch cannot multiply in this dtype on the CPU: no peak, hence no MFU.
    }
  }
  peak.source = printf_string("measured: best %lldx%lld matrix product, %d LibTorch threads",
                              static_cast<long long>(n), static_cast<long long>(n), at::get_num_threads());
  return peak;
}

double measure_cpu_copy_bandwidth(int64_t bytes, double seconds) {
  const at::Tensor from = at::ones({bytes}, at::kByte), to = at::empty({bytes}, at::kByte);
  to.copy_(from);  // warm-up: the destination's pages are touched once before timing
  double best = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  do {
    const auto start = std::chrono::steady_clock::now();
    to.copy_(from);
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 2.0 * static_cast<double>(bytes) / dt);
  } while (std::chrono::steady_clock::now() < deadline);
  return best;
}

}  // namespace mlspeed
