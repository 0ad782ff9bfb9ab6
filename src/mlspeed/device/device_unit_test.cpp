#include "mlspeed/device/device.h"

#include <gtest/gtest.h>
#include <torch/version.h>

#include "mlspeed/core/errors.h"
#include "mlspeed/device/host.h"
#include "mlspeed/device/peak.h"

namespace mlspeed {
namespace {

DeviceFacts make(const std::string& id, const std::string& cc = "") {
  DeviceFacts d;
  d.id = id;
  d.kind = id.substr(0, id.find(':'));
  d.index = id.find(':') == std::string::npos ? 0 : std::stoi(id.substr(id.find(':') + 1));
  d.name = d.kind == "cuda" ? "NVIDIA Test GPU" : "Test CPU";
  d.compute_capability = cc;
  return d;
}

std::vector<std::string> ids(const std::vector<DeviceFacts>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.id);
  return out;
}

const std::vector<DeviceFacts> kMachine = {make("cpu"), make("cuda:0", "9.0"), make("cuda:1", "9.0")};

TEST(SelectDevices, ExpandsAllAndCuda) {
  EXPECT_EQ(ids(select_devices({"all"}, kMachine)), (std::vector<std::string>{"cpu", "cuda:0", "cuda:1"}));
  EXPECT_EQ(ids(select_devices({"cuda"}, kMachine)), (std::vector<std::string>{"cuda:0", "cuda:1"}));
  EXPECT_EQ(ids(select_devices({"cuda:1", "cpu"}, kMachine)), (std::vector<std::string>{"cuda:1", "cpu"}));
  EXPECT_EQ(ids(select_devices({"cpu", "all"}, kMachine)), (std::vector<std::string>{"cpu", "cuda:0", "cuda:1"}));
}

TEST(SelectDevices, AMissingDeviceNamesItAndTheDevicesThatExist) {
  try {
    select_devices({"cpu", "cuda:3"}, kMachine);
    FAIL() << "expected a UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no device 'cuda:3' on this machine; devices here: cpu, cuda:0, cuda:1"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(select_devices({"gpu"}, kMachine), UsageError);
  EXPECT_THROW(select_devices({"cuda"}, {make("cpu")}), UsageError);
}

TEST(UnsupportedReason, Tf32NeedsAnAmpereOrNewerGpu) {
  EXPECT_NE(unsupported_reason(make("cpu"), Precision::tf32, Job::infer)->find("tensor-core"), std::string::npos);
  EXPECT_NE(unsupported_reason(make("cuda:0", "7.5"), Precision::tf32, Job::infer)->find("8.0"), std::string::npos);
  EXPECT_FALSE(unsupported_reason(make("cuda:0", "8.0"), Precision::tf32, Job::train));
  EXPECT_FALSE(unsupported_reason(make("cuda:0", "9.0"), Precision::tf32, Job::infer));
}

TEST(UnsupportedReason, Bf16NeedsAmpereOnCudaAndFp32RunsEverywhere) {
  EXPECT_TRUE(unsupported_reason(make("cuda:0", "7.0"), Precision::bf16, Job::infer));
  EXPECT_FALSE(unsupported_reason(make("cuda:0", "8.6"), Precision::bf16, Job::train));
  EXPECT_FALSE(unsupported_reason(make("cpu"), Precision::fp32, Job::train));
  EXPECT_FALSE(unsupported_reason(make("cpu"), Precision::bf16, Job::train));  // CPU autocast knows bf16
}

TEST(DatasheetPeak, MatchesTheNamesLibTorchReports) {
  auto h100 = datasheet_peak("NVIDIA H100 80GB HBM3");
  ASSERT_TRUE(h100);
  EXPECT_DOUBLE_EQ(h100->flops.at(Precision::bf16), 989.4e12);
  EXPECT_DOUBLE_EQ(h100->flops.at(Precision::tf32), 494.7e12);
  EXPECT_DOUBLE_EQ(h100->flops.at(Precision::fp32), 67e12);
  EXPECT_NE(h100->source.find("H100 SXM5"), std::string::npos);
  EXPECT_DOUBLE_EQ(datasheet_peak("NVIDIA H100 PCIe")->flops.at(Precision::bf16), 756e12);
  EXPECT_DOUBLE_EQ(datasheet_peak("NVIDIA A100-SXM4-80GB")->flops.at(Precision::fp16), 312e12);
  EXPECT_DOUBLE_EQ(datasheet_peak("NVIDIA A10")->flops.at(Precision::fp16), 125e12);
  EXPECT_FALSE(datasheet_peak("NVIDIA A10G"));  // different chip; not in the table
  auto t4 = datasheet_peak("Tesla T4");
  ASSERT_TRUE(t4);
  EXPECT_EQ(t4->flops.count(Precision::bf16), 0u);  // no bf16 tensor cores
  EXPECT_FALSE(datasheet_peak("Some Future GPU"));
}

TEST(HostFacts, DescribeThisMachineAndBuild) {
  const HostFacts h = collect_host_facts();
  EXPECT_FALSE(h.cpu_model.empty());
  EXPECT_GE(h.logical_cpus, 1);
  EXPECT_GE(h.physical_cores, 1);
  EXPECT_LE(h.physical_cores, h.logical_cpus);
  EXPECT_GT(h.ram_bytes, 0);
  EXPECT_GE(h.torch_threads, 1);
  EXPECT_EQ(h.torch_version, TORCH_VERSION);
  EXPECT_FALSE(h.blas.empty());
  EXPECT_FALSE(h.build_type.empty());
  EXPECT_FALSE(h.compiler.empty());
}

TEST(HostFacts, WarnsAboutSlowBuildsAndTheReferenceBlas) {
  HostFacts h;
  h.build_type = "Release";
  h.blas = "OpenBLAS 0.3.21";
  for (const auto& w : measurement_warnings(h)) EXPECT_NE(w.find("governor"), std::string::npos) << w;
  h.build_type = "Debug (unoptimised)";
  h.sanitized = true;
  h.blas = "reference BLAS (/usr/lib/x86_64-linux-gnu/blas/libblas.so.3)";
  const auto warnings = measurement_warnings(h);
  auto has = [&](const char* s) {
    for (const auto& w : warnings)
      if (w.find(s) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("Debug"));
  EXPECT_TRUE(has("sanitizers"));
  EXPECT_TRUE(has("libopenblas0-pthread"));
}

}  // namespace
}  // namespace mlspeed
