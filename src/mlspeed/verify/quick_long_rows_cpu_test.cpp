// --quick must catch a kernel that goes wrong only on long rows (BUGS S7: softmax over rows of
// 12,416 returned NaN, and was right on rows of 64). The broken kernel replaces LibTorch's CPU
// softmax for the whole process while the test runs (each test runs in a process of its own
// under ctest); float64, which the reference computes in, stays right, as the CPU under a device
// with the bug would.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/library.h>

#include <limits>

#include "mlspeed/verify/op_suite.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {
namespace {

Target quick_cpu_target() {
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  return make_target(cpu, /*fault_name=*/"");
}

// Softmax by exp and sum in float64 (never the kernel it replaces), NaN in every dtype but
// float64 once a row reaches 1024 elements. The output is contiguous whatever the input's layout,
// as LibTorch's is (its backward kernel relies on that).
at::Tensor long_rows_nan_softmax(const at::Tensor& self, int64_t dim, bool half_to_float) {
  const at::Tensor x = self.to(at::kDouble);
  const at::Tensor e = (x - std::get<0>(x.max(dim, /*keepdim=*/true))).exp();
  at::Tensor out = (e / e.sum(dim, /*keepdim=*/true)).to(half_to_float ? at::kFloat : self.scalar_type()).contiguous();
  if (self.scalar_type() != at::kDouble && self.dim() > 0 && self.size(dim) >= 1024)
    out.fill_(std::numeric_limits<double>::quiet_NaN());
  return out;
}

std::vector<CheckResult> quick_softmax_rows() {
  OpSuiteOptions options;
  options.quick = true;
  options.ops = {"softmax"};
  return run_op_suite(quick_cpu_target(), options, nullptr);
}

bool failed(const CheckResult& row) { return row.outcome == Outcome::fail || row.outcome == Outcome::error; }

TEST(QuickLongRows, ASoftmaxWrongOnlyFromRowsOf1024IsCaughtByTheQuickSet) {
  for (const CheckResult& row : quick_softmax_rows()) EXPECT_FALSE(failed(row)) << "healthy: " << describe(row);

  torch::Library broken(torch::Library::IMPL, "aten", c10::DispatchKey::CPU, __FILE__, __LINE__);
  broken.impl("_softmax", TORCH_FN(long_rows_nan_softmax));
  int caught = 0;
  for (const CheckResult& row : quick_softmax_rows()) {
    if (row.size_class == "small") EXPECT_FALSE(failed(row)) << "rows of 64 are right: " << describe(row);
    if (!failed(row) || row.pass != "forward") continue;
    ++caught;
    EXPECT_EQ(row.size_class, "medium") << describe(row);
    if (row.layout == "contiguous") EXPECT_EQ(row.bug_class, BugClass::size) << describe(row);
    EXPECT_NE(row.message.find("NaN"), std::string::npos) << describe(row);
  }
  EXPECT_GT(caught, 0) << "--quick has no softmax over rows of 1024 elements or more";
}

}  // namespace
}  // namespace mlspeed::verify
