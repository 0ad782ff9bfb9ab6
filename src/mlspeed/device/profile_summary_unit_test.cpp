// The arithmetic of `run --profile`: self times of nested host ops, device time per step, the
// share each op takes, and the files it writes.
#include "mlspeed/device/profile_summary.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mlspeed {
namespace {

ProfiledEvent host(const std::string& name, double start, double duration, uint64_t thread = 1) {
  return {name, false, thread, start, duration};
}
ProfiledEvent kernel(const std::string& name, double start, double duration) {
  return {name, true, 7, start, duration};
}

const OpTime* find_op(const ProfileSummary& s, const std::string& name, bool on_device) {
  for (const OpTime& op : s.ops)
    if (op.name == name && op.on_device == on_device) return &op;
  return nullptr;
}

TEST(ProfileSummary, HostOpsCountTheirSelfTimeWithDirectChildrenSubtracted) {
  // linear [0,100) holds addmm [10,70), which holds copy_ [20,30); a second thread runs alone.
  const auto s = summarise({host("aten::linear", 0, 100), host("aten::addmm", 10, 60), host("aten::copy_", 20, 10),
                            host("aten::relu", 100, 5), host("aten::mm", 0, 40, /*thread=*/2)},
                           1);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::linear", false)->us_per_step, 40);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::addmm", false)->us_per_step, 50);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::copy_", false)->us_per_step, 10);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::relu", false)->us_per_step, 5);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::mm", false)->us_per_step, 40);
  EXPECT_DOUBLE_EQ(s.host_us_per_step, 145);  // the spans of the two threads, each counted once
  EXPECT_DOUBLE_EQ(s.device_us_per_step, 0);
  // Nothing ran on a device: shares are of host time, longest first.
  EXPECT_EQ(s.ops.front().name, "aten::addmm");
  EXPECT_NEAR(find_op(s, "aten::addmm", false)->share, 50.0 / 145, 1e-12);
}

TEST(ProfileSummary, AChildStartingWithItsParentIsStillItsChild) {
  const auto s = summarise({host("aten::mm", 0, 30), host("aten::linear", 0, 50)}, 1);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::linear", false)->us_per_step, 20);
  EXPECT_DOUBLE_EQ(find_op(s, "aten::mm", false)->us_per_step, 30);
}

TEST(ProfileSummary, DeviceTimeIsPerStepAndDeviceOpsComeFirstWithTheirShare) {
  // Two steps, each one GEMM (300 us) and two GELUs (50 us each); the host launched them.
  std::vector<ProfiledEvent> events;
  for (int step = 0; step < 2; ++step) {
    const double t = step * 1000.0;
    events.push_back(host("aten::addmm", t, 20));
    events.push_back(kernel("sm90_gemm", t + 5, 300));
    events.push_back(kernel("gelu_kernel", t + 400, 50));
    events.push_back(kernel("gelu_kernel", t + 500, 50));
  }
  const auto s = summarise(events, 2);
  EXPECT_DOUBLE_EQ(s.device_us_per_step, 400);
  EXPECT_DOUBLE_EQ(s.host_us_per_step, 20);
  ASSERT_EQ(s.ops.size(), 3u);
  EXPECT_EQ(s.ops[0].name, "sm90_gemm");
  EXPECT_EQ(s.ops[1].name, "gelu_kernel");
  EXPECT_FALSE(s.ops[2].on_device);
  EXPECT_DOUBLE_EQ(s.ops[1].calls_per_step, 2);
  EXPECT_DOUBLE_EQ(s.ops[1].us_per_step, 100);
  EXPECT_DOUBLE_EQ(s.ops[0].share, 0.75);
  EXPECT_DOUBLE_EQ(s.ops[2].share, 0);  // host ops get no share of device time
  const std::string top = format_top(s, 1, 0.8);
  EXPECT_NE(top.find("device busy 0.400 ms of a 0.800 ms step (50%)"), std::string::npos) << top;
  EXPECT_NE(top.find("sm90_gemm"), std::string::npos);
  EXPECT_EQ(top.find("gelu_kernel"), std::string::npos) << "only the top 1";
}

TEST(ProfileSummary, TheCsvQuotesKernelNamesWithCommas) {
  const auto s = summarise({kernel("void f<float, 4>(int)", 0, 10)}, 1);
  EXPECT_EQ(ops_csv(s), "name,where,calls_per_step,us_per_step,share\n\"void f<float, 4>(int)\",device,1,10,1.0000\n");
}

TEST(ProfileSummary, TheTraceIsChromeTraceJsonWithTheStepCount) {
  const auto trace = nlohmann::json::parse(trace_json({host("aten::mm", 1.5, 2), kernel("gemm", 3, 4)}, 5, "x"));
  ASSERT_EQ(trace["traceEvents"].size(), 2u);
  EXPECT_EQ(trace["traceEvents"][0]["cat"], "cpu_op");
  EXPECT_EQ(trace["traceEvents"][1]["cat"], "kernel");
  EXPECT_EQ(trace["traceEvents"][1]["ph"], "X");
  EXPECT_DOUBLE_EQ(trace["traceEvents"][1]["dur"].get<double>(), 4);
  EXPECT_EQ(trace["mlspeed"]["steps"], 5);
  EXPECT_EQ(trace["mlspeed"]["label"], "x");
}

TEST(ProfileSummary, NoEventsGiveAnEmptySummary) {
  const auto s = summarise({}, 0);
  EXPECT_EQ(s.steps, 1);
  EXPECT_TRUE(s.ops.empty());
  EXPECT_NE(format_top(s, 10, 1.0).find("host ops 0.000 ms"), std::string::npos);
}

}  // namespace
}  // namespace mlspeed
