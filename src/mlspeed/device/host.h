// Facts about the machine and this build that every result row carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlspeed {

struct HostFacts {
  std::string hostname;
  std::string os;
  std::string cpu_model;
  int logical_cpus = 0;
  int physical_cores = 0;
  int64_t ram_bytes = 0;
  int torch_threads = 0;  // intra-op threads LibTorch will use
  std::string cpu_allocator;  // cpu_setup.h: whether freed CPU memory is kept for reuse
  std::string torch_version;
  std::string cuda_version;   // CUDA runtime; empty without CUDA
  std::string cudnn_version;  // empty without cuDNN
  std::string blas;           // the BLAS library actually loaded, e.g. "OpenBLAS 0.3.21 ..."
  std::string mlspeed_version;
  std::string build_type;     // CMAKE_BUILD_TYPE of mlspeed; "Debug (unoptimised)" when -O0
  std::string compiler;
  bool sanitized = false;
};

HostFacts collect_host_facts();

// Reasons the numbers may not reflect the hardware: an unoptimised or sanitised build, the
// reference BLAS. Printed before timing starts.
std::vector<std::string> measurement_warnings(const HostFacts& host);

}  // namespace mlspeed
