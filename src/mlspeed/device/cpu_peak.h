// A CPU's theoretical peak FLOP/s, the figure MFU divides by on the CPU:
//
//   physical cores x clock x FLOPs per cycle per core
//
// with FLOPs per cycle from the vector instructions the CPU lists. Unlike a measured matrix
// product it does not move with the machine's load: on a shared 2-core VM the measured fp32 rate
// swung from 68.7 to 133.9 GFLOP/s between runs minutes apart. cpu_peak.cpp states the
// assumptions. Where the operating system does not describe the CPU this way (macOS, ARM Linux),
// there is no theoretical figure and the caller measures instead (peak.h).
#pragma once

#include <optional>
#include <set>
#include <string>

#include "mlspeed/device/peak.h"

namespace mlspeed {

// What the formula needs, as Linux describes the CPU.
struct CpuDescription {
  std::string vendor;            // vendor_id: "GenuineIntel", "AuthenticAMD"
  std::string model;             // model name: "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz"
  std::set<std::string> flags;   // the first processor's x86 flags; empty elsewhere
  int physical_cores = 0;        // distinct (physical id, core id); processors when not listed
  double listed_clock_hz = 0;    // "cpu MHz" of the first processor; 0 when absent
  double max_clock_hz = 0;       // cpufreq's cpuinfo_max_freq; 0 when there is no cpufreq
};

// Reads /proc/cpuinfo's text; `max_freq_khz` is the text of
// /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq ("" when it does not exist).
CpuDescription parse_cpu_description(const std::string& cpuinfo, const std::string& max_freq_khz);

// fp32, bf16 and fp16 peaks with a source saying how they were computed; nullopt when the clock,
// the core count or the instruction set is unknown.
std::optional<Peak> theoretical_cpu_peak(const CpuDescription& cpu);

// This machine's CPU (Linux /proc and /sys); nullopt where they do not describe it.
std::optional<Peak> theoretical_cpu_peak();

}  // namespace mlspeed
