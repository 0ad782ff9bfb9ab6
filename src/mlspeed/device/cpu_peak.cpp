#include "mlspeed/device/cpu_peak.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

double number(const std::string& text) { return std::strtod(text.c_str(), nullptr); }  // 0 when none

std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string word; in >> word;) out.insert(word);
  return out;
}

bool has(const CpuDescription& cpu, const char* flag) { return cpu.flags.count(flag) > 0; }

// The clock the peak counts with, and where it was read. cpufreq's maximum (the highest turbo
// bin) comes first: it makes the peak an upper bound, as a datasheet's is, and it does not move
// with the load. Then the base clock Intel writes into the model name ("@ 2.90GHz"). Last "cpu
// MHz": without cpufreq (a VM) it is the nominal clock the hypervisor reports, but it is the
// current clock wherever cpufreq scales it, hence last.
std::pair<double, std::string> clock(const CpuDescription& cpu) {
  if (cpu.max_clock_hz > 0) return {cpu.max_clock_hz, "cpufreq max"};
  const auto at = cpu.model.rfind('@');
  if (at != std::string::npos) {
    const double ghz = std::strtod(cpu.model.c_str() + at + 1, nullptr);
    if (ghz > 0 && cpu.model.find("GHz", at) != std::string::npos) return {ghz * 1e9, "model name"};
  }
  if (cpu.listed_clock_hz > 0) return {cpu.listed_clock_hz, "cpu MHz"};
  return {0, ""};
}

struct Width {
  int flops_per_cycle = 0;  // fp32, per core
  std::string how;
};

bool model_has(const CpuDescription& cpu, const char* part) { return cpu.model.find(part) != std::string::npos; }

// Intel parts with AVX-512 but one 512-bit FMA unit, as Intel's specifications list them:
// client chips (Ice Lake, Tiger Lake, Rocket Lake: "Core(TM) i7-1185G7"; the HEDT "X" parts have
// two), and the first two Xeon Scalable generations' Bronze, Silver and Gold 5000 tiers (Skylake-
// and Cascade Lake-SP; Ice Lake-SP, the first to list avx512ifma, has two on every tier). The rare
// exceptions (Gold 5122 and 5222 have two) are counted as one, an underestimate.
bool one_avx512_fma_unit(const CpuDescription& cpu) {
  if (cpu.vendor != "GenuineIntel") return false;
  const bool hedt = model_has(cpu, "X CPU") || model_has(cpu, "XE CPU");
  if (model_has(cpu, "Core(TM)") && !hedt) return true;
  const bool early_xeon_tier = model_has(cpu, "Xeon(R) Bronze") || model_has(cpu, "Xeon(R) Silver") ||
                               model_has(cpu, "Xeon(R) Gold 5");
  return early_xeon_tier && !has(cpu, "avx512ifma");
}

// fp32 FLOPs per cycle per core: lanes x 2 (a fused multiply-add is two FLOPs) x FMA units.
// Two FMA units wherever the instruction set has FMA (Haswell and later, Zen), except the Intel
// parts above with one 512-bit unit. AMD's Zen 4 runs a 512-bit FMA as two 256-bit halves: 32,
// like AVX2; Zen 5 (which also lists avx512_vp2intersect) has full-width units. A VM that hides
// the model name ("Intel(R) Xeon(R) Processor") is counted with two units: an upper bound.
Width fp32_width(const CpuDescription& cpu) {
  if (has(cpu, "avx512f")) {
    if (cpu.vendor == "AuthenticAMD" && !has(cpu, "avx512_vp2intersect"))
      return {32, "AVX-512 on Zen 4: 2 x 256-bit FMA units x 8 lanes x 2"};
    if (one_avx512_fma_unit(cpu)) return {32, "AVX-512: 1 FMA unit on this model x 16 lanes x 2"};
    return {64, "AVX-512: 2 FMA units x 16 lanes x 2"};
  }
  if (has(cpu, "avx2") && has(cpu, "fma")) return {32, "AVX2: 2 FMA units x 8 lanes x 2"};
  if (has(cpu, "avx")) return {16, "AVX: 8 lanes x (1 add + 1 multiply)"};
  if (has(cpu, "sse2")) return {8, "SSE: 4 lanes x (1 add + 1 multiply)"};
  return {};
}

// bf16 and fp16 per cycle per core: AMX tiles do 1024 FLOPs a cycle (Intel's figure for
// Sapphire Rapids); the AVX-512 bf16 dot product and fp16 FMA twice the fp32 rate. Without them
// LibTorch converts to fp32 and multiplies there, so the fp32 peak is the ceiling.
std::pair<int, std::string> half_width(const CpuDescription& cpu, int fp32, const char* amx, const char* avx512,
                                       const char* name) {
  if (has(cpu, amx)) return {1024, std::string(name) + " 1024 FLOP/cycle (AMX)"};
  if (has(cpu, avx512)) return {2 * fp32, std::string(name) + " x2 (" + avx512 + ")"};
  return {fp32, std::string(name) + " as fp32"};
}

std::string read_text(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

CpuDescription parse_cpu_description(const std::string& cpuinfo, const std::string& max_freq_khz) {
  CpuDescription cpu;
  std::istringstream in(cpuinfo);
  std::set<std::pair<std::string, std::string>> cores;  // (package, core)
  std::string package;
  int processors = 0;
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    // Each processor repeats the same model, clock and flags: the first one's are kept.
    if (key == "processor") ++processors;
    if (key == "physical id") package = value;
    if (key == "core id") cores.emplace(package, value);
    if (key == "vendor_id" && cpu.vendor.empty()) cpu.vendor = value;
    if (key == "model name" && cpu.model.empty()) cpu.model = value;
    if (key == "cpu MHz" && cpu.listed_clock_hz == 0) cpu.listed_clock_hz = number(value) * 1e6;
    if (key == "flags" && cpu.flags.empty()) cpu.flags = words(value);
  }
  cpu.physical_cores = cores.empty() ? processors : static_cast<int>(cores.size());
  cpu.max_clock_hz = number(max_freq_khz) * 1e3;
  return cpu;
}

std::optional<Peak> theoretical_cpu_peak(const CpuDescription& cpu) {
  const auto [hz, clock_from] = clock(cpu);
  const Width width = fp32_width(cpu);
  if (hz <= 0 || cpu.physical_cores <= 0 || width.flops_per_cycle == 0) return std::nullopt;
  const double core_hz = cpu.physical_cores * hz;  // core-cycles a second
  const auto [bf16, bf16_how] = half_width(cpu, width.flops_per_cycle, "amx_bf16", "avx512_bf16", "bf16");
  const auto [fp16, fp16_how] = half_width(cpu, width.flops_per_cycle, "amx_fp16", "avx512_fp16", "fp16");
  Peak peak;
  peak.flops[Precision::fp32] = core_hz * width.flops_per_cycle;
  peak.flops[Precision::bf16] = core_hz * bf16;
  peak.flops[Precision::fp16] = core_hz * fp16;
  peak.source = printf_string("theoretical: %d cores x %.2f GHz (%s) x %d fp32 FLOP/cycle (%s); %s, %s",
                              cpu.physical_cores, hz / 1e9, clock_from.c_str(), width.flops_per_cycle,
                              width.how.c_str(), bf16_how.c_str(), fp16_how.c_str());
  return peak;
}

std::optional<Peak> theoretical_cpu_peak() {
  const std::string cpuinfo = read_text("/proc/cpuinfo");
  if (cpuinfo.empty()) return std::nullopt;  // macOS: the caller measures
  return theoretical_cpu_peak(
      parse_cpu_description(cpuinfo, read_text("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")));
}

}  // namespace mlspeed
