#include "mlspeed/device/device.h"

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <c10/core/Device.h>
#include <torch/version.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/cpu_peak.h"
#include "mlspeed/device/cuda.h"
#include "mlspeed/device/host.h"
#include "mlspeed/device/peak.h"

namespace mlspeed {
namespace {

DeviceFacts cpu_facts(const HostFacts& host, bool measure_peak) {
  DeviceFacts d;
  d.id = "cpu";
  d.kind = "cpu";
  d.name = host.cpu_model;
  d.memory_bytes = host.ram_bytes;
  if (measure_peak) mlspeed::measure_peak(d);
  else d.peak_source = "not measured";
  return d;
}

DeviceFacts mps_facts(const HostFacts& host) {
  DeviceFacts d;
  d.id = "mps";
  d.kind = "mps";
  d.name = "Apple GPU (" + host.cpu_model + ")";
  d.memory_bytes = host.ram_bytes;  // unified memory
  d.peak_source = "unknown: no datasheet entry for Apple GPUs";
  return d;
}

std::string device_ids(const std::vector<DeviceFacts>& devices) {
  std::vector<std::string> ids;
  for (const auto& d : devices) ids.push_back(d.id);
  return join(ids, ", ");
}

bool is_cuda_cc_at_least(const DeviceFacts& d, int major) {
  return d.kind == "cuda" && !d.compute_capability.empty() && std::stoi(d.compute_capability) >= major;
}

// Peak resident set of this process (Linux: VmHWM, resettable through clear_refs).
std::optional<int64_t> process_peak_rss() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return std::nullopt;
}

}  // namespace

std::vector<DeviceFacts> discover_devices(bool measure_cpu_peak) {
  const HostFacts host = collect_host_facts();
  std::vector<DeviceFacts> devices = {cpu_facts(host, measure_cpu_peak)};
  for (int i = 0; i < cuda::device_count(); ++i) devices.push_back(cuda::facts(i));
  if (compat::mps_available()) devices.push_back(mps_facts(host));
  return devices;
}

void measure_peak(DeviceFacts& cpu) {
  // The theoretical figure where the CPU is described (stable from run to run); else a product.
  Peak peak = theoretical_cpu_peak().value_or(Peak{});
  if (peak.flops.empty()) peak = measure_cpu_peak();
  cpu.peak_flops = std::move(peak.flops);
  cpu.peak_source = std::move(peak.source);
  // No datasheet figure applies to a CPU's memory (channels, DIMMs, NUMA): the measured copy is
  // both what is reached and what utilisation is measured against.
  cpu.copy_bandwidth = measure_cpu_copy_bandwidth();
  cpu.peak_bandwidth = cpu.copy_bandwidth;
  cpu.bandwidth_source = "measured: best copy of 256 MiB";
}

std::vector<DeviceFacts> select_devices(const std::vector<std::string>& ids,
                                        const std::vector<DeviceFacts>& available) {
  std::vector<DeviceFacts> chosen;
  auto add = [&](const DeviceFacts& d) {
    if (std::none_of(chosen.begin(), chosen.end(), [&](const DeviceFacts& c) { return c.id == d.id; }))
      chosen.push_back(d);
  };
  for (const auto& id : ids) {
    bool matched = false;
    for (const auto& d : available) {
      if (id == "all" || id == d.id || (id == "cuda" && d.kind == "cuda")) {
        add(d);
        matched = true;
      }
    }
    if (!matched) {
      std::string why = "--devices: no device '" + id + "' on this machine; devices here: " +
                        device_ids(available);
      if (id.rfind("cuda", 0) == 0 && !cuda::built())
        why += " (this LibTorch " TORCH_VERSION " was built without CUDA)";
      if (id == "mps" && !compat::mps_available())
        why += " (MPS needs macOS on Apple silicon and a LibTorch 2.1+ built with it)";
      throw UsageError(why);
    }
  }
  return chosen;
}

std::optional<std::string> unsupported_reason(const DeviceFacts& d, Precision precision, Job job) {
  if (allows_tf32(precision)) {
    if (d.kind != "cuda")
      return "tf32 is a tensor-core mode of NVIDIA GPUs (compute capability 8.0+); " + d.id + " has none";
    if (!is_cuda_cc_at_least(d, 8))
      return "tf32 needs compute capability 8.0 or newer; " + d.name + " is " + d.compute_capability;
  }
  if (precision == Precision::bf16 && d.kind == "cuda" && !is_cuda_cc_at_least(d, 8))
    return "bf16 needs compute capability 8.0 or newer; " + d.name + " is " + d.compute_capability;
  const std::optional<at::ScalarType> autocast = autocast_dtype(precision);
  if (job == Job::train && autocast) {
    if (!compat::autocast_supports(torch_device(d).type(), *autocast))
      return "autocast in LibTorch " TORCH_VERSION " does not support " + std::string(name(precision)) +
             " on " + d.kind;
  }
  return std::nullopt;
}

c10::Device torch_device(const DeviceFacts& d) {
  if (d.kind == "cuda") return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(d.index));
  if (d.kind == "mps") return c10::Device(c10::DeviceType::MPS);
  return c10::Device(c10::DeviceType::CPU);
}

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) cuda::synchronize(device.index());
  else if (device.type() == c10::DeviceType::MPS) compat::mps_synchronize();
  // CPU ops have finished when they return.
}

void reset_peak_memory(const c10::Device& device) {
  if (device.is_cuda()) {
    cuda::reset_peak_memory(device.index());
  } else if (device.is_cpu()) {
    // From the resident set now: the caller released the heap an earlier model kept before it
    // warmed this one up, so what is resident is this model's and the heap its steps reuse.
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";  // Linux: reset the peak resident set size (VmHWM)
  }
}

std::optional<int64_t> peak_memory(const c10::Device& device) {
  if (device.is_cuda()) return cuda::peak_memory(device.index());
  if (device.is_cpu()) return process_peak_rss();
  return std::nullopt;
}

void release_cached_memory(const c10::Device& device) {
  if (device.is_cuda()) cuda::release_cached_memory();
#if defined(__GLIBC__)
  if (device.is_cpu()) malloc_trim(0);  // hand freed heap back, so the resident set is live memory
#endif
}

std::optional<int64_t> free_memory(const c10::Device& device) {
  if (device.is_cuda()) return cuda::free_memory(device.index());
  if (device.is_cpu()) {
    std::ifstream in("/proc/meminfo");  // Linux: what can be allocated without swapping
    for (std::string line; std::getline(in, line);)
      if (line.rfind("MemAvailable:", 0) == 0) return std::stoll(line.substr(13)) * 1024;
  }
  return std::nullopt;
}

}  // namespace mlspeed
