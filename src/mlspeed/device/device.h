// Devices as small values (after MLX): what a device is, how to find every device LibTorch can
// reach, and the few per-device operations the runner needs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/core/job.h"

namespace c10 {
struct Device;
}

namespace mlspeed {

struct DeviceFacts {
  std::string id;    // "cpu", "cuda:0", "mps": what users type after -d
  std::string kind;  // "cpu", "cuda", "mps"
  int index = 0;
  std::string name;                 // "NVIDIA H100 80GB HBM3", or the CPU model
  int64_t memory_bytes = 0;         // device memory; RAM for the CPU
  std::string compute_capability;   // "9.0" (CUDA only)
  int multiprocessors = 0;          // CUDA only
  std::string driver;               // "580.159.04" (CUDA only)
  std::map<Precision, double> peak_flops;  // FLOP/s that MFU is computed against; absent = unknown
  std::string peak_source;                 // where those peaks come from
  // Memory bandwidth, for the roofline of memory-bound rows (decoding): `peak_bandwidth` is what
  // utilisation is computed against (GPU: datasheet; CPU: the measured copy below), bytes/s, 0 if
  // unknown; `copy_bandwidth` a large copy within the device's memory measured through LibTorch
  // (bytes read plus bytes written per second), what a kernel can reach in practice.
  double peak_bandwidth = 0;
  double copy_bandwidth = 0;
  std::string bandwidth_source;
};

// Every device LibTorch can reach, CPU first. Measuring the CPU (its memory bandwidth, and its
// FLOP/s where no theoretical peak can be computed) takes up to a second.
std::vector<DeviceFacts> discover_devices(bool measure_cpu_peak = true);

// Fills a CPU's peak_flops and peak_source: the theoretical peak where the operating system
// describes the CPU (cpu_peak.h), else a measured matrix product (peak.h); and its memory
// bandwidth, measured.
void measure_peak(DeviceFacts& cpu);

// Device ids (cpu, cuda:0, ...) for -d: "all" and "cuda" expand to every such device. Throws
// UsageError naming the bad id and the devices this machine has.
std::vector<DeviceFacts> select_devices(const std::vector<std::string>& ids,
                                        const std::vector<DeviceFacts>& available);

// Why `device` cannot run `precision` for `job`, or nullopt if it can.
std::optional<std::string> unsupported_reason(const DeviceFacts& device, Precision precision, Job job);

c10::Device torch_device(const DeviceFacts& device);
void synchronize(const c10::Device& device);
// Peak memory of the device since the last reset: allocator peak on CUDA, the process's peak
// resident set on the CPU (counted from what is resident at the reset, the memory malloc keeps
// for reuse included: release_cached_memory first); nullopt where the platform cannot tell.
void reset_peak_memory(const c10::Device& device);
std::optional<int64_t> peak_memory(const c10::Device& device);
void release_cached_memory(const c10::Device& device);
// Memory a new allocation on the device could get now: CUDA's free memory plus the caching
// allocator's unused blocks; the CPU's MemAvailable. Empty where unknown (MPS).
std::optional<int64_t> free_memory(const c10::Device& device);

}  // namespace mlspeed
