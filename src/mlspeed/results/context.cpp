#include "mlspeed/results/context.h"

#include <nlohmann/json.hpp>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/json_input.h"
#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

using nlohmann::json;

std::string or_unknown(const std::string& text) { return text.empty() ? "unknown" : text; }

std::string describe_peaks(const DeviceFacts& device) {
  if (device.peak_flops.empty()) return "peak unknown";
  std::vector<std::string> peaks;
  for (const auto& [precision, flops] : device.peak_flops)
    peaks.push_back(std::string(name(precision)) + " " + format_flops(flops));
  std::string out = "peak " + join(peaks, ", ");
  if (!device.peak_source.empty()) out += " (source: " + device.peak_source + ")";
  return out;
}

std::string describe_bandwidth(const DeviceFacts& device) {
  std::vector<std::string> parts;
  if (device.peak_bandwidth > 0) parts.push_back(printf_string("%.0f GB/s", device.peak_bandwidth / 1e9));
  if (device.copy_bandwidth > 0) parts.push_back(printf_string("copy %.0f GB/s", device.copy_bandwidth / 1e9));
  std::string out = "memory bandwidth " + join(parts, ", ");
  if (!device.bandwidth_source.empty()) out += " (source: " + device.bandwidth_source + ")";
  return out;
}

std::string describe_device(const DeviceFacts& device) {
  std::vector<std::string> parts = {"`" + device.id + "` " + or_unknown(device.name)};
  if (device.memory_bytes > 0) parts.push_back(format_bytes(static_cast<double>(device.memory_bytes)));
  if (!device.compute_capability.empty()) parts.push_back("compute " + device.compute_capability);
  if (device.multiprocessors > 0) parts.push_back(std::to_string(device.multiprocessors) + " SMs");
  if (!device.driver.empty()) parts.push_back("driver " + device.driver);
  parts.push_back(describe_peaks(device));
  if (device.peak_bandwidth > 0 || device.copy_bandwidth > 0) parts.push_back(describe_bandwidth(device));
  return "  - " + join(parts, ", ") + "\n";
}

std::string describe_software(const HostFacts& h) {
  std::string out = "- LibTorch " + or_unknown(h.torch_version);
  out += h.cuda_version.empty() ? ", no CUDA" : ", CUDA " + h.cuda_version;
  if (!h.cudnn_version.empty()) out += ", cuDNN " + h.cudnn_version;
  out += "; BLAS: " + or_unknown(h.blas) + "; LibTorch threads: " + std::to_string(h.torch_threads);
  if (!h.cpu_allocator.empty()) out += "; CPU memory: " + h.cpu_allocator;
  out += "\n";
  out += "- mlspeed " + or_unknown(h.mlspeed_version) + ", " + or_unknown(h.build_type) + " build, " +
         or_unknown(h.compiler) + (h.sanitized ? ", sanitized" : "") + "\n";
  return out;
}

}  // namespace

void to_json(json& j, const HostFacts& h) {
  j = json{{"hostname", h.hostname},
           {"os", h.os},
           {"cpu_model", h.cpu_model},
           {"logical_cpus", h.logical_cpus},
           {"physical_cores", h.physical_cores},
           {"ram_bytes", h.ram_bytes},
           {"torch_threads", h.torch_threads},
           {"cpu_allocator", h.cpu_allocator},
           {"torch_version", h.torch_version},
           {"cuda_version", h.cuda_version},
           {"cudnn_version", h.cudnn_version},
           {"blas", h.blas},
           {"mlspeed_version", h.mlspeed_version},
           {"build_type", h.build_type},
           {"compiler", h.compiler},
           {"sanitized", h.sanitized}};
}

void from_json(const json& j, HostFacts& h) {
  read_json_key(j, "hostname", h.hostname);
  read_json_key(j, "os", h.os);
  read_json_key(j, "cpu_model", h.cpu_model);
  read_json_key(j, "logical_cpus", h.logical_cpus);
  read_json_key(j, "physical_cores", h.physical_cores);
  read_json_key(j, "ram_bytes", h.ram_bytes);
  read_json_key(j, "torch_threads", h.torch_threads);
  read_json_key(j, "cpu_allocator", h.cpu_allocator);
  read_json_key(j, "torch_version", h.torch_version);
  read_json_key(j, "cuda_version", h.cuda_version);
  read_json_key(j, "cudnn_version", h.cudnn_version);
  read_json_key(j, "blas", h.blas);
  read_json_key(j, "mlspeed_version", h.mlspeed_version);
  read_json_key(j, "build_type", h.build_type);
  read_json_key(j, "compiler", h.compiler);
  read_json_key(j, "sanitized", h.sanitized);
}

void to_json(json& j, const DeviceFacts& d) {
  json peaks = json::object();
  for (const auto& [precision, flops] : d.peak_flops) peaks[std::string(name(precision))] = flops;
  j = json{{"id", d.id},
           {"kind", d.kind},
           {"index", d.index},
           {"name", d.name},
           {"memory_bytes", d.memory_bytes},
           {"compute_capability", d.compute_capability},
           {"multiprocessors", d.multiprocessors},
           {"driver", d.driver},
           {"peak_flops", peaks},
           {"peak_source", d.peak_source},
           {"peak_bandwidth", d.peak_bandwidth},
           {"copy_bandwidth", d.copy_bandwidth},
           {"bandwidth_source", d.bandwidth_source}};
}

void from_json(const json& j, DeviceFacts& d) {
  read_json_key(j, "id", d.id);
  read_json_key(j, "kind", d.kind);
  read_json_key(j, "index", d.index);
  read_json_key(j, "name", d.name);
  read_json_key(j, "memory_bytes", d.memory_bytes);
  read_json_key(j, "compute_capability", d.compute_capability);
  read_json_key(j, "multiprocessors", d.multiprocessors);
  read_json_key(j, "driver", d.driver);
  read_json_key(j, "peak_source", d.peak_source);
  read_json_key(j, "peak_bandwidth", d.peak_bandwidth);
  read_json_key(j, "copy_bandwidth", d.copy_bandwidth);
  read_json_key(j, "bandwidth_source", d.bandwidth_source);
  d.peak_flops.clear();
  const auto peaks = j.find("peak_flops");
  if (peaks == j.end() || peaks->is_null()) return;
  for (const auto& [key, flops] : peaks->items()) {
    // A newer mlspeed may time dtypes this one does not know; their peaks are of no use here.
    if (const auto precision = parse_precision(key)) d.peak_flops[*precision] = flops.get<double>();
  }
}

void to_json(json& j, const RunContext& c) {
  j = json{{"started_at", c.started_at},
           {"command", c.command},
           {"host", c.host},
           {"devices", c.devices},
           {"tf32_default", c.tf32_default},
           {"deterministic", c.deterministic},
           {"cudnn_benchmark", c.cudnn_benchmark},
           {"fp16_reduced_reduction", c.fp16_reduced_reduction}};
  if (c.bf16_reduced_reduction) j["bf16_reduced_reduction"] = *c.bf16_reduced_reduction;
  if (c.graphs) j["graphs"] = *c.graphs;
  if (c.kernels) j["kernels"] = std::string(name(*c.kernels));
}

void from_json(const json& j, RunContext& c) {
  read_json_key(j, "started_at", c.started_at);
  read_json_key(j, "command", c.command);
  read_json_key(j, "host", c.host);
  read_json_key(j, "devices", c.devices);
  read_json_key(j, "tf32_default", c.tf32_default);
  read_json_key(j, "deterministic", c.deterministic);
  read_json_key(j, "cudnn_benchmark", c.cudnn_benchmark);
  read_json_key(j, "fp16_reduced_reduction", c.fp16_reduced_reduction);
  if (const auto it = j.find("bf16_reduced_reduction"); it != j.end() && !it->is_null())
    c.bf16_reduced_reduction = it->get<bool>();
  if (const auto it = j.find("graphs"); it != j.end() && !it->is_null()) c.graphs = it->get<bool>();
  if (const auto it = j.find("kernels"); it != j.end() && it->is_string())
    c.kernels = parse_kernel_set(it->get<std::string>());
}

void capture_precision_flags(RunContext& c) {
  c.tf32_default = compat::tf32_matmul_enabled();
  c.deterministic = at::globalContext().deterministicAlgorithms();
  c.cudnn_benchmark = at::globalContext().benchmarkCuDNN();
  c.fp16_reduced_reduction = compat::fp16_reduced_precision_reduction();
  c.bf16_reduced_reduction = compat::bf16_reduced_precision_reduction();
}

namespace {

// `context` with each of its texts on one line and free of control characters: a context read
// from another machine's file may hold anything, and its description goes to the terminal.
RunContext printable_context(RunContext context) {
  HostFacts& h = context.host;
  for (std::string* text : {&context.started_at, &context.command, &h.hostname, &h.os, &h.cpu_model, &h.torch_version,
                            &h.cuda_version, &h.cudnn_version, &h.blas, &h.mlspeed_version, &h.build_type, &h.compiler})
    *text = one_line(*text);
  for (DeviceFacts& d : context.devices)
    for (std::string* text : {&d.id, &d.kind, &d.name, &d.compute_capability, &d.driver, &d.peak_source,
                              &d.bandwidth_source})
      *text = one_line(*text);
  return context;
}

}  // namespace

std::string describe_context(const RunContext& context) {
  const RunContext c = printable_context(context);
  const HostFacts& h = c.host;
  std::string out;
  if (!c.started_at.empty()) out += "- run started " + c.started_at + "\n";
  out += "- host " + or_unknown(h.hostname) + ", " + or_unknown(h.os) + "\n";
  out += "- CPU " + or_unknown(h.cpu_model) + ", " + std::to_string(h.logical_cpus) + " logical CPUs / " +
         std::to_string(h.physical_cores) + " physical cores, " +
         format_bytes(static_cast<double>(h.ram_bytes)) + " RAM\n";
  out += describe_software(h);
  out += "- precision flags: TF32 by default " + on_off(c.tf32_default) + ", deterministic " +
         on_off(c.deterministic) + ", cuDNN benchmark " + on_off(c.cudnn_benchmark) +
         ", reduced-precision reductions fp16 " + on_off(c.fp16_reduced_reduction) + " / bf16 " +
         (c.bf16_reduced_reduction ? on_off(*c.bf16_reduced_reduction) : std::string("n/a")) + "\n";
  if (c.graphs)
    out += *c.graphs ? "- CUDA graphs on: a CUDA device times the replay of each step recorded after the warm-up "
                       "(column graphs with --wide; `--graphs off` times eager steps)\n"
                     : "- CUDA graphs off: every step is launched kernel by kernel from the host, as in eager PyTorch\n";
  if (c.kernels == KernelSet::libtorch)
    out += "- LibTorch's kernels alone (--kernels libtorch): quantised weights are dequantised for LibTorch's matrix "
           "product, mlspeed's own kernels are off\n";
  out += c.devices.empty() ? "- devices: none\n" : "- devices:\n";
  for (const DeviceFacts& device : c.devices) out += describe_device(device);
  return out;
}

}  // namespace mlspeed
