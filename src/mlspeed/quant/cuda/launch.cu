// launch.cuh's switch: read once per process (the environment) and per device (its compute
// capability), so that a launch costs no runtime query.
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "mlspeed/quant/cuda/launch.cuh"

namespace mlspeed::quant::gpu {
namespace {

bool cuq_overlap_allowed_by_environment() {
  const char* value = std::getenv("MLSPEED_CUDA_PDL");
  return !value || (std::strcmp(value, "0") != 0 && std::strcmp(value, "off") != 0);
}

constexpr int kCuqMaxDevices = 64;

}  // namespace

bool cuq_overlapping_launches() {
  static const bool allowed = cuq_overlap_allowed_by_environment();
  // Per device: 0 not yet asked, 1 no, 2 yes.
  static std::array<std::atomic<int>, kCuqMaxDevices> answers{};
  if (!allowed) return false;
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= kCuqMaxDevices) return false;
  int answer = answers[device].load(std::memory_order_relaxed);
  if (answer == 0) {
    int major = 0;
    answer = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) == cudaSuccess && major >= 9
                 ? 2
                 : 1;
    answers[device].store(answer, std::memory_order_relaxed);
  }
  return answer == 2;
}

}  // namespace mlspeed::quant::gpu
