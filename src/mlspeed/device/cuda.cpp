// The CUDA backend, built only against a LibTorch with CUDA (see CMakeLists.txt).
#include "mlspeed/device/cuda.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/peak.h"

namespace mlspeed::cuda {
namespace {

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw std::runtime_error(std::string("[cuda] ") + what + ": " + cudaGetErrorString(status));
}

// "580.159.04" from the kernel module; the CUDA driver API version if that is not readable.
std::string driver_version() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  std::getline(in, line);
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"((\d+\.\d+(\.\d+)?))"))) return m[1];
  int v = 0;
  if (cudaDriverGetVersion(&v) == cudaSuccess)
    return printf_string("CUDA driver API %d.%d", v / 1000, (v % 1000) / 10);
  return "";
}

class EventTimer : public Timer {
 public:
  explicit EventTimer(int index)
      : index_(index), start_(cudaEventDefault), end_(cudaEventDefault) {}  // default = timing on
  void start() override {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index_));
    start_.record();
  }
  void stop() override {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index_));
    end_.record();
  }
  double elapsed_ms() override {
    end_.synchronize();
    return start_.elapsed_time(end_);
  }

 private:
  int index_;
  at::cuda::CUDAEvent start_, end_;
};

// The best rate of copying 512 MiB within the device's memory (8 times the largest L2 of a
// current GPU, so the copy streams from HBM), counting bytes read plus bytes written, as the
// bandwidth figures of STREAM and nvbandwidth do.
double copy_bandwidth(int index) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  constexpr int64_t bytes = int64_t{512} << 20;
  double best = 0;
  {
    const auto options = at::TensorOptions().device(at::kCUDA, static_cast<c10::DeviceIndex>(index)).dtype(at::kByte);
    const at::Tensor from = at::ones({bytes}, options), to = at::empty({bytes}, options);
    to.copy_(from);  // warm-up
    at::cuda::CUDAEvent start(cudaEventDefault), end(cudaEventDefault);
    for (int i = 0; i < 10; ++i) {
      start.record();
      to.copy_(from);
      end.record();
      end.synchronize();
      best = std::max(best, 2.0 * static_cast<double>(bytes) / (start.elapsed_time(end) / 1e3));
    }
  }
  c10::cuda::CUDACachingAllocator::emptyCache();  // leave the device's free memory as it was
  return best;
}

}  // namespace

bool built() { return true; }

int device_count() { return static_cast<int>(c10::cuda::device_count()); }

DeviceFacts facts(int index) {
  const cudaDeviceProp* prop = at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(index));
  DeviceFacts d;
  d.id = "cuda:" + std::to_string(index);
  d.kind = "cuda";
  d.index = index;
  d.name = prop->name;
  d.memory_bytes = static_cast<int64_t>(prop->totalGlobalMem);
  d.compute_capability = std::to_string(prop->major) + "." + std::to_string(prop->minor);
  d.multiprocessors = prop->multiProcessorCount;
  d.driver = driver_version();
  if (auto peak = datasheet_peak(d.name)) {
    d.peak_flops = std::move(peak->flops);
    d.peak_source = std::move(peak->source);
    d.peak_bandwidth = peak->bandwidth;
  } else {
    d.peak_source = "unknown: no datasheet entry for " + d.name;
  }
  d.copy_bandwidth = copy_bandwidth(index);
  d.bandwidth_source = d.peak_bandwidth > 0 ? "NVIDIA datasheet" : "unknown: no datasheet entry";
  d.bandwidth_source += "; measured: best device-to-device copy of 512 MiB";
  return d;
}

std::string runtime_version() {
  int v = 0;
  check(cudaRuntimeGetVersion(&v), "cudaRuntimeGetVersion");
  return printf_string("%d.%d", v / 1000, (v % 1000) / 10);
}

std::string cudnn_version() {
  const long v = at::detail::getCUDAHooks().versionCuDNN();
  if (v <= 0) return "";
  // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + minor*100 + patch.
  if (v >= 90000) return printf_string("%ld.%ld.%ld", v / 10000, (v % 10000) / 100, v % 100);
  return printf_string("%ld.%ld.%ld", v / 1000, (v % 1000) / 100, v % 100);
}

void synchronize(int index) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

std::unique_ptr<Timer> make_event_timer(int index) { return std::make_unique<EventTimer>(index); }

void reset_peak_memory(int index) {
  compat::lazy_init_cuda();
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(index));
}

int64_t peak_memory(int index) {
  compat::lazy_init_cuda();
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return stats.allocated_bytes[0].peak;  // index 0 is StatType::AGGREGATE in every version
}

void release_cached_memory() {
  compat::lazy_init_cuda();
  c10::cuda::CUDACachingAllocator::emptyCache();
}

int64_t free_memory(int index) {
  compat::lazy_init_cuda();
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  size_t free = 0, total = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  const int64_t cached_unused = stats.reserved_bytes[0].current - stats.allocated_bytes[0].current;
  return static_cast<int64_t>(free) + std::max<int64_t>(cached_unused, 0);
}

std::string pci_bus_id(int index) {
  char id[32] = {};
  if (cudaDeviceGetPCIBusId(id, sizeof id, index) != cudaSuccess) {
    (void)cudaGetLastError();  // not this call's caller's error
    return "";
  }
  return id;
}

}  // namespace mlspeed::cuda
