// The CPU's theoretical peak from synthetic /proc/cpuinfo text: cores x clock x FLOPs per cycle.
#include "mlspeed/device/cpu_peak.h"
#include "testing/text.h"

#include <gtest/gtest.h>

#include <string>

namespace mlspeed {
namespace {

// /proc/cpuinfo of `cores` cores (one processor each) with the given model name, flags and clock.
std::string cpuinfo(int cores, const std::string& vendor, const std::string& model, const std::string& flags,
                    const std::string& mhz = "2299.998") {
  std::string text;
  for (int i = 0; i < cores; ++i)
    text += "processor\t: " + std::to_string(i) + "\nvendor_id\t: " + vendor + "\nmodel name\t: " + model +
            "\ncpu MHz\t\t: " + mhz + "\nphysical id\t: 0\ncore id\t\t: " + std::to_string(i) + "\nflags\t\t: " +
            flags + "\n\n";
  return text;
}

const char* kAvx2 = "fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx avx2";
const char* kAvx512 = "fpu sse sse2 fma avx avx2 avx512f avx512dq avx512bw avx512vl";

using ::mlspeed::testing::contains;

TEST(TheoreticalCpuPeak, TheVmThatSwungIsTwoCoresAtItsListedClockWithAvx512) {
  // This machine's CPU as its VM lists it: no cpufreq, no clock in the model name.
  const CpuDescription cpu = parse_cpu_description(
      cpuinfo(2, "GenuineIntel", "Intel(R) Xeon(R) Processor",
              std::string(kAvx512) + " avx512_bf16 avx512_fp16"), "");
  EXPECT_EQ(cpu.physical_cores, 2);
  const auto peak = theoretical_cpu_peak(cpu);
  ASSERT_TRUE(peak.has_value());
  EXPECT_NEAR(peak->flops.at(Precision::fp32), 2 * 2.299998e9 * 64, 1e3);
  EXPECT_NEAR(peak->flops.at(Precision::bf16), 2 * 2.299998e9 * 128, 1e3);
  EXPECT_NEAR(peak->flops.at(Precision::fp16), 2 * 2.299998e9 * 128, 1e3);
  EXPECT_TRUE(contains(peak->source, "theoretical: 2 cores x 2.30 GHz (cpu MHz) x 64 fp32 FLOP/cycle")) << peak->source;
  EXPECT_TRUE(contains(peak->source, "bf16 x2 (avx512_bf16)")) << peak->source;
}

TEST(TheoreticalCpuPeak, CpufreqsMaximumComesBeforeTheModelNameAndTheListedClock) {
  const std::string text = cpuinfo(4, "GenuineIntel", "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", kAvx2, "800.000");
  auto peak = theoretical_cpu_peak(parse_cpu_description(text, "4600000\n"));
  ASSERT_TRUE(peak.has_value());
  EXPECT_DOUBLE_EQ(peak->flops.at(Precision::fp32), 4 * 4.6e9 * 32);
  EXPECT_TRUE(contains(peak->source, "4.60 GHz (cpufreq max)")) << peak->source;

  // Without cpufreq, the base clock in the model name; never the current "cpu MHz" (800 here).
  peak = theoretical_cpu_peak(parse_cpu_description(text, ""));
  ASSERT_TRUE(peak.has_value());
  EXPECT_DOUBLE_EQ(peak->flops.at(Precision::fp32), 4 * 3.2e9 * 32);
  EXPECT_TRUE(contains(peak->source, "3.20 GHz (model name)")) << peak->source;
  // No bf16 or fp16 instructions: LibTorch computes those in fp32.
  EXPECT_DOUBLE_EQ(peak->flops.at(Precision::bf16), peak->flops.at(Precision::fp32));
}

TEST(TheoreticalCpuPeak, FlopsPerCycleFollowTheInstructionSet) {
  auto fp32_per_core_cycle = [](const std::string& vendor, const std::string& flags) {
    const auto peak = theoretical_cpu_peak(parse_cpu_description(cpuinfo(1, vendor, "x @ 1.00GHz", flags), ""));
    return peak ? peak->flops.at(Precision::fp32) / 1e9 : 0.0;
  };
  EXPECT_EQ(fp32_per_core_cycle("GenuineIntel", kAvx512), 64);
  EXPECT_EQ(fp32_per_core_cycle("GenuineIntel", kAvx2), 32);
  EXPECT_EQ(fp32_per_core_cycle("GenuineIntel", "fpu sse sse2 avx"), 16);  // AVX without FMA
  EXPECT_EQ(fp32_per_core_cycle("GenuineIntel", "fpu sse sse2"), 8);
  EXPECT_EQ(fp32_per_core_cycle("AuthenticAMD", kAvx512), 32);  // Zen 4: 512 bits in two halves
  EXPECT_EQ(fp32_per_core_cycle("AuthenticAMD", std::string(kAvx512) + " avx512_vp2intersect"), 64);  // Zen 5
}

// Intel lists one 512-bit FMA unit on client chips and on the first two Xeon Scalable
// generations' lower tiers; the bf16 and fp16 rates follow the fp32 one.
TEST(TheoreticalCpuPeak, IntelPartsWithOneAvx512FmaUnitGetHalfTheRate) {
  auto fp32_per_cycle = [](const std::string& model, const std::string& extra = "") {
    const auto peak = theoretical_cpu_peak(
        parse_cpu_description(cpuinfo(1, "GenuineIntel", model, std::string(kAvx512) + extra), "1000000"));
    return peak ? peak->flops.at(Precision::fp32) / 1e9 : 0.0;
  };
  EXPECT_EQ(fp32_per_cycle("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz"), 32);                // Tiger Lake
  EXPECT_EQ(fp32_per_cycle("Intel(R) Core(TM) i9-10980XE CPU @ 3.00GHz"), 64);           // HEDT
  EXPECT_EQ(fp32_per_cycle("Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz"), 32);           // Cascade Lake
  EXPECT_EQ(fp32_per_cycle("Intel(R) Xeon(R) Gold 5218 CPU @ 2.30GHz"), 32);
  EXPECT_EQ(fp32_per_cycle("Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz"), 64);
  EXPECT_EQ(fp32_per_cycle("Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz", " avx512ifma"), 64);  // Ice Lake-SP
  EXPECT_EQ(fp32_per_cycle("Intel(R) Xeon(R) Platinum 8480+"), 64);
  const auto peak = theoretical_cpu_peak(parse_cpu_description(
      cpuinfo(1, "GenuineIntel", "Intel(R) Xeon(R) Silver 4214 CPU", std::string(kAvx512) + " avx512_bf16"), "1000000"));
  ASSERT_TRUE(peak.has_value());
  EXPECT_TRUE(contains(peak->source, "1 FMA unit on this model")) << peak->source;
  EXPECT_DOUBLE_EQ(peak->flops.at(Precision::bf16), 64e9);
}

TEST(TheoreticalCpuPeak, AmxTilesSetTheBf16Peak) {
  const auto peak = theoretical_cpu_peak(parse_cpu_description(
      cpuinfo(1, "GenuineIntel", "x @ 2.00GHz", std::string(kAvx512) + " avx512_bf16 amx_bf16 amx_tile"), ""));
  ASSERT_TRUE(peak.has_value());
  EXPECT_DOUBLE_EQ(peak->flops.at(Precision::bf16), 2e9 * 1024);
  EXPECT_DOUBLE_EQ(peak->flops.at(Precision::fp16), 2e9 * 64);
}

TEST(TheoreticalCpuPeak, CoresAreCountedOncePerPhysicalCore) {
  // Two hyperthreads of each of two cores: four processors, two cores.
  std::string text;
  for (int p = 0; p < 4; ++p)
    text += "processor\t: " + std::to_string(p) + "\nmodel name\t: x @ 1.00GHz\nphysical id\t: 0\ncore id\t\t: " +
            std::to_string(p % 2) + "\nflags\t\t: " + kAvx2 + "\n\n";
  EXPECT_EQ(parse_cpu_description(text, "").physical_cores, 2);
}

TEST(TheoreticalCpuPeak, NoFigureWhereTheCpuIsNotDescribed) {
  // ARM Linux lists "Features", not x86 flags, and may give no clock: the caller measures.
  const std::string arm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\nCPU implementer\t: 0x41\n";
  EXPECT_FALSE(theoretical_cpu_peak(parse_cpu_description(arm, "")).has_value());
  // An x86 CPU whose clock is nowhere to be read.
  std::string no_clock = cpuinfo(2, "GenuineIntel", "Intel(R) Xeon(R) Processor", kAvx2, "0");
  EXPECT_FALSE(theoretical_cpu_peak(parse_cpu_description(no_clock, "")).has_value());
  EXPECT_FALSE(theoretical_cpu_peak(parse_cpu_description("", "")).has_value());
}

}  // namespace
}  // namespace mlspeed
