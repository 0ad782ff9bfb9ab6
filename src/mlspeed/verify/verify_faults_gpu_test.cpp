// The same faults injected into cuda:0: what catches them on the CPU must catch them on the GPU.
#include "testing/fault_cases.h"

#include "mlspeed/device/device.h"

namespace mlspeed::verify::testing {
namespace {

class FaultIsCaughtOnCuda : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FaultIsCaughtOnCuda, OnCuda0) {
  for (const DeviceFacts& d : discover_devices(/*measure_cpu_peak=*/false))
    if (d.id == "cuda:0") return expect_caught(GetParam(), d);
  GTEST_SKIP() << "no CUDA device";
}

INSTANTIATE_TEST_SUITE_P(Verify, FaultIsCaughtOnCuda, ::testing::ValuesIn(fault_cases()), case_label);

}  // namespace
}  // namespace mlspeed::verify::testing
