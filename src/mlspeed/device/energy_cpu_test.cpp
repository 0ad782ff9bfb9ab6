// The energy meters without the hardware: NVML through a fake library the tests build
// (src/testing/fake_nvml.cpp) and powercap through a tree of files under a temporary directory.
// Counters, a missing counter, wraps, a GPU lost mid-run, a library or a file that cannot be read:
// each a reading with a number that is right or with the reason there is none, never a crash.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "mlspeed/device/energy.h"
#include "mlspeed/device/nvml_energy.h"
#include "mlspeed/device/powercap_energy.h"

namespace mlspeed {
namespace {

namespace fs = std::filesystem;

#ifndef MLSPEED_FAKE_NVML
#error "CMakeLists.txt passes the fake NVML library's path"
#endif

constexpr const char* kFakeVariables[] = {"FAKE_NVML_WATTS",      "FAKE_NVML_NO_ENERGY", "FAKE_NVML_BACKWARDS", "FAKE_NVML_STEP_MS",
                                          "FAKE_NVML_LOST_AFTER", "FAKE_NVML_SM_CLOCKS", "FAKE_NVML_REASONS",
                                          "FAKE_NVML_INIT",       "FAKE_NVML_NO_DEVICE"};

class NvmlEnergy : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kFakeVariables) unsetenv(v);
    void* library = dlopen(MLSPEED_FAKE_NVML, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library, nullptr) << dlerror();
    reset_ = reinterpret_cast<void (*)()>(dlsym(library, "fake_nvml_reset"));
    ASSERT_NE(reset_, nullptr);
    reset_();
  }
  void TearDown() override {
    for (const char* v : kFakeVariables) unsetenv(v);
  }
  // A region of `ms` milliseconds measured through the fake.
  EnergyReading measure(int ms = 150, const std::string& library = MLSPEED_FAKE_NVML) {
    const std::unique_ptr<EnergyMeter> meter = make_nvml_meter(library, "0000:19:00.0", 0);
    meter->start();
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return meter->stop();
  }
  void (*reset_)() = nullptr;
};

TEST_F(NvmlEnergy, TheEnergyCounterGivesThePowerTimesTheRegion) {
  setenv("FAKE_NVML_WATTS", "250", 1);
  const EnergyReading r = measure();
  ASSERT_TRUE(r.joules.has_value()) << r.unavailable;
  EXPECT_EQ(r.source.rfind("nvml energy counter (its rate between steps", 0), 0u) << r.source;
  EXPECT_GE(r.seconds, 0.15);
  EXPECT_NEAR(*r.joules, 250 * r.seconds, 0.02 * 250 * r.seconds);
  EXPECT_EQ(r.clock_min_mhz, 1980);
  EXPECT_EQ(r.clock_median_mhz, 1980);
  EXPECT_EQ(r.temperature_max_c, 61);
  EXPECT_TRUE(r.throttle_reasons.empty());
  EXPECT_TRUE(r.unavailable.empty());
}

// A counter that moves every 50 ms, over a region of 375 ms: its plain difference is 350 or 400 ms
// worth, 6.7% off either way; its rate between steps is right.
TEST_F(NvmlEnergy, ACounterThatMovesInStepsIsReadAtItsRateBetweenThem) {
  setenv("FAKE_NVML_WATTS", "700", 1);
  setenv("FAKE_NVML_STEP_MS", "50", 1);
  const EnergyReading r = measure(375);
  ASSERT_TRUE(r.joules.has_value()) << r.unavailable;
  EXPECT_NEAR(*r.joules, 700 * r.seconds, 0.03 * 700 * r.seconds) << r.source;
  EXPECT_EQ(r.source, "nvml energy counter (its rate between steps, every 50 ms)");
}

TEST_F(NvmlEnergy, ARegionShorterThanTwoStepsGetsThePlainDifference) {
  setenv("FAKE_NVML_STEP_MS", "1000", 1);
  const EnergyReading r = measure(30);
  ASSERT_TRUE(r.joules.has_value()) << r.unavailable;
  EXPECT_EQ(r.source, "nvml energy counter (difference)");
}

TEST_F(NvmlEnergy, WithoutACounterThePowerSamplesAreIntegrated) {
  setenv("FAKE_NVML_NO_ENERGY", "1", 1);
  setenv("FAKE_NVML_WATTS", "300", 1);
  const EnergyReading r = measure();
  ASSERT_TRUE(r.joules.has_value()) << r.unavailable;
  EXPECT_EQ(r.source, "nvml power samples");
  EXPECT_NEAR(*r.joules, 300 * r.seconds, 1e-9);
}

TEST_F(NvmlEnergy, ThrottleReasonsAndAClockThatFellAreSeen) {
  setenv("FAKE_NVML_SM_CLOCKS", "1980,1980,1500", 1);
  setenv("FAKE_NVML_REASONS", std::to_string(0x1 | 0x4 | 0x20).c_str(), 1);  // idle, power cap, thermal
  const EnergyReading r = measure();
  EXPECT_EQ(r.clock_min_mhz, 1500);
  EXPECT_EQ(r.clock_median_mhz, 1980);
  EXPECT_EQ(r.throttle_reasons, (std::vector<std::string>{"power-cap", "thermal"})) << "idle costs nothing: not a reason";
}

TEST_F(NvmlEnergy, AGpuLostMidRunLeavesNoEnergyAndSaysWhy) {
  setenv("FAKE_NVML_LOST_AFTER", "4", 1);
  const EnergyReading r = measure();
  EXPECT_FALSE(r.joules.has_value());
  EXPECT_NE(r.unavailable.find("not available: the GPU was lost during the run"), std::string::npos) << r.unavailable;
}

TEST_F(NvmlEnergy, ACounterThatWentBackwardsGivesNoNumber) {
  setenv("FAKE_NVML_BACKWARDS", "1", 1);
  const EnergyReading r = measure(30);
  EXPECT_FALSE(r.joules.has_value());
  EXPECT_NE(r.unavailable.find("went backwards"), std::string::npos) << r.unavailable;
}

TEST_F(NvmlEnergy, NoLibraryNoDeviceOrAFailedInitSayWhy) {
  EXPECT_NE(measure(1, "/nonexistent/libnvidia-ml.so.1").unavailable.find("could not be loaded"), std::string::npos);
  setenv("FAKE_NVML_NO_DEVICE", "1", 1);
  EXPECT_EQ(measure(1).unavailable, "not available: NVML has no GPU 0000:19:00.0: Not Found");
  unsetenv("FAKE_NVML_NO_DEVICE");
  // nvmlInit runs once per library: a copy of the fake is a library of its own.
  const fs::path copy = fs::temp_directory_path() / ("mlspeed-fake-nvml-" + std::to_string(getpid()) + ".so");
  fs::copy_file(MLSPEED_FAKE_NVML, copy, fs::copy_options::overwrite_existing);
  setenv("FAKE_NVML_INIT", "4", 1);
  EXPECT_EQ(measure(1, copy.string()).unavailable, "not available: nvmlInit failed: Insufficient Permissions");
  fs::remove(copy);
}

// A sysfs tree of its own under a temporary directory.
class PowercapEnergy : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("mlspeed-sysfs-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
  }
  void TearDown() override { fs::remove_all(root); }
  // Written whole, then renamed into place: a sampler never reads half a file.
  void write(const fs::path& relative, const std::string& text) {
    const fs::path path = root / relative;
    fs::create_directories(path.parent_path());
    const fs::path partial = path.string() + ".partial";
    std::ofstream(partial) << text << "\n";
    fs::rename(partial, path);
  }
  void zone(const std::string& dir, const std::string& name, double uj, double range = 262143328850.0) {
    write(fs::path("class/powercap") / dir / "name", name);
    write(fs::path("class/powercap") / dir / "energy_uj", std::to_string(static_cast<long long>(uj)));
    write(fs::path("class/powercap") / dir / "max_energy_range_uj", std::to_string(static_cast<long long>(range)));
  }
  fs::path root;
};

TEST_F(PowercapEnergy, PackagesAndTheirDramAreAddedAndNothingElse) {
  zone("intel-rapl:0", "package-0", 1e6);
  zone("intel-rapl:0/intel-rapl:0:0", "core", 7e6);
  zone("intel-rapl:0/intel-rapl:0:1", "dram", 5e5);
  zone("intel-rapl:1", "psys", 9e6);
  write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000");
  write("devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "3600000");
  const std::unique_ptr<EnergyMeter> meter = make_powercap_meter(root.string());
  meter->start();
  zone("intel-rapl:0", "package-0", 3e6);              // 2 J
  zone("intel-rapl:0/intel-rapl:0:1", "dram", 1e6);    // 0.5 J
  zone("intel-rapl:0/intel-rapl:0:0", "core", 9e6);    // inside the package: not added again
  zone("intel-rapl:1", "psys", 19e6);                  // holds the packages: not added
  const EnergyReading r = meter->stop();
  ASSERT_TRUE(r.joules.has_value()) << r.unavailable;
  EXPECT_DOUBLE_EQ(*r.joules, 2.5);
  EXPECT_EQ(r.source, "rapl package-0+dram-0");
  EXPECT_EQ(r.clock_median_mhz, 3000) << "the cores' mean clock";
}

TEST_F(PowercapEnergy, ACounterThatWrapsIsCountedRoundItsRange) {
  zone("intel-rapl:0", "package-0", 1e9 - 1e6, 1e9);
  const std::unique_ptr<EnergyMeter> meter = make_powercap_meter(root.string());
  meter->start();
  zone("intel-rapl:0", "package-0", 5e5, 1e9);
  const EnergyReading r = meter->stop();
  ASSERT_TRUE(r.joules.has_value()) << r.unavailable;
  EXPECT_DOUBLE_EQ(*r.joules, 1.5);
}

TEST_F(PowercapEnergy, NoCountersOrCountersOnlyRootMayReadSayWhy) {
  fs::create_directories(root);
  EXPECT_EQ(make_powercap_meter(root.string())->stop().unavailable,
            "not available: no RAPL energy counters under " + (root / "class/powercap").string() +
                " (a virtual machine, or a CPU or kernel without RAPL)");
  zone("intel-rapl:0", "package-0", 1e6);
  const SysfsReader denied = [](const std::string& path) -> SysfsText {
    if (path.find("energy_uj") != std::string::npos) return {"", EACCES};
    return read_sysfs(path);
  };
  const std::string why = make_powercap_meter(root.string(), denied)->stop().unavailable;
  EXPECT_NE(why.find("energy_uj is readable by root only"), std::string::npos) << why;
  EXPECT_EQ(why.rfind("not available: ", 0), 0u) << why;
}

TEST_F(PowercapEnergy, WithoutCountersTheCoresClockIsStillSampled) {
  write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1800000");
  const std::unique_ptr<EnergyMeter> meter = make_powercap_meter(root.string());
  meter->start();
  const EnergyReading r = meter->stop();
  EXPECT_FALSE(r.joules.has_value());
  EXPECT_EQ(r.unavailable.rfind("not available: no RAPL energy counters", 0), 0u) << r.unavailable;
  EXPECT_EQ(r.clock_median_mhz, 1800);
}

TEST_F(PowercapEnergy, AZoneThatCannotBeReadMidRunLeavesNoNumber) {
  zone("intel-rapl:0", "package-0", 1e6);
  const std::unique_ptr<EnergyMeter> meter = make_powercap_meter(root.string());
  meter->start();
  fs::remove_all(root / "class/powercap/intel-rapl:0");
  const EnergyReading r = meter->stop();
  EXPECT_FALSE(r.joules.has_value());
  EXPECT_NE(r.unavailable.find("energy_uj"), std::string::npos) << r.unavailable;
}

TEST(Energy, EveryDeviceKindGetsAMeterThatSaysWhatItCannotRead) {
  DeviceFacts mps;
  mps.kind = "mps";
  const std::unique_ptr<EnergyMeter> meter = make_energy_meter(mps);
  meter->start();
  const EnergyReading r = meter->stop();
  EXPECT_FALSE(r.joules.has_value());
  EXPECT_NE(r.unavailable.find("powermetrics"), std::string::npos) << r.unavailable;
}

}  // namespace
}  // namespace mlspeed
