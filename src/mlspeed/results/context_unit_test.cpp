#include "mlspeed/results/context.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/results_test_rows.h"

namespace mlspeed {
namespace {

using nlohmann::json;
using testing::expect_same_context;
using testing::sample_context;

TEST(Context, JsonRoundTripKeepsEveryFact) {
  RunContext original = sample_context();
  original.deterministic = true;
  original.tf32_default = false;
  const RunContext back = json::parse(json(original).dump()).get<RunContext>();
  expect_same_context(original, back);
  original.kernels = KernelSet::libtorch;
  expect_same_context(original, json::parse(json(original).dump()).get<RunContext>());
}

// The narrow table has no kernels column: the context says when the rows ran LibTorch's alone.
TEST(Context, DescriptionSaysWhenMlspeedsOwnKernelsAreOff) {
  RunContext c = sample_context();
  EXPECT_EQ(describe_context(c).find("kernels alone"), std::string::npos);
  c.kernels = KernelSet::libtorch;
  EXPECT_NE(describe_context(c).find("- LibTorch's kernels alone (--kernels libtorch)"), std::string::npos);
}

TEST(Context, PeakFlopsAreKeyedByPrecisionName) {
  const json j = sample_context();
  const json& peaks = j.at("devices").at(1).at("peak_flops");
  EXPECT_DOUBLE_EQ(peaks.at("bf16").get<double>(), 989.4e12);
  EXPECT_DOUBLE_EQ(peaks.at("tf32").get<double>(), 494.7e12);
  EXPECT_FALSE(peaks.contains("fp16"));
}

TEST(Context, OlderAndNewerJsonStillReads) {
  // Absent facts keep their defaults; peaks for dtypes this build does not know are skipped.
  const json j = {{"command", "mlspeed run"},
                  {"devices", {{{"id", "cuda:0"}, {"peak_flops", {{"fp8", 2e15}, {"fp16", 9e14}}}}}}};
  const RunContext c = j.get<RunContext>();
  EXPECT_EQ(c.command, "mlspeed run");
  EXPECT_EQ(c.host.hostname, "");
  ASSERT_EQ(c.devices.size(), 1u);
  EXPECT_EQ(c.devices[0].id, "cuda:0");
  ASSERT_EQ(c.devices[0].peak_flops.size(), 1u);
  EXPECT_DOUBLE_EQ(c.devices[0].peak_flops.at(Precision::fp16), 9e14);
}

TEST(Context, WrongTypesAreRejected) {
  const json j = {{"host", {{"logical_cpus", "many"}}}};
  EXPECT_THROW(j.get<RunContext>(), json::exception);
}

TEST(Context, DescriptionNamesHostBuildFlagsAndEachDevice) {
  const std::string text = describe_context(sample_context());
  for (const char* expected :
       {"bench-01", "Linux 6.1.0 x86_64", "AMD EPYC 9654 96-Core Processor", "192 logical CPUs / 96 physical cores",
        "1.5 TiB RAM", "LibTorch 1.13.1", "CUDA 11.7", "cuDNN 8.5.0", "OpenBLAS 0.3.21", "LibTorch threads: 94",
        "mlspeed 0.1.0", "RelWithDebInfo build", "GCC 12.2.0", "sanitized", "TF32 by default on",
        "deterministic off", "cuDNN benchmark on", "`cpu`", "`cuda:1` NVIDIA H100 80GB HBM3", "79.6 GiB",
        "compute 9.0", "132 SMs", "driver 580.159.04", "bf16 989 TFLOP/s", "tf32 495 TFLOP/s",
        "fp32 1.25 TFLOP/s", "(source: NVIDIA datasheet, dense)", "(source: measured (fp32 matmul))"})
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in:\n" << text;
}

TEST(Context, DescriptionOfABareContextSaysWhatIsUnknown) {
  const std::string text = describe_context(RunContext{});
  EXPECT_NE(text.find("no CUDA"), std::string::npos) << text;
  EXPECT_NE(text.find("devices: none"), std::string::npos) << text;
  EXPECT_EQ(text.find("sanitized"), std::string::npos) << text;
}

// A context from another machine's file may hold anything: every line stays one line, and no
// control character reaches the terminal.
TEST(Context, DescriptionEscapesControlCharactersInEveryFact) {
  const std::string evil = std::string("x\x1b[2J\nINJECTED") + '\0' + "\x7f";
  RunContext c;
  c.started_at = c.command = evil;
  for (std::string* text : {&c.host.hostname, &c.host.os, &c.host.cpu_model, &c.host.torch_version, &c.host.cuda_version,
                            &c.host.cudnn_version, &c.host.blas, &c.host.mlspeed_version, &c.host.build_type,
                            &c.host.compiler})
    *text = evil;
  DeviceFacts d;
  d.id = d.kind = d.name = d.driver = d.compute_capability = d.peak_source = d.bandwidth_source = evil;
  d.peak_flops[Precision::fp32] = 1e12;
  d.peak_bandwidth = 1e11;
  c.devices = {d};
  const std::string text = describe_context(c);
  EXPECT_EQ(text.find("\nINJECTED"), std::string::npos) << text;
  for (const char ch : text) EXPECT_TRUE(ch == '\n' || (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f)) << text;
}

}  // namespace
}  // namespace mlspeed
