// A CPU whose own kernel is broken (BUGS class O3: integer cumsum returns its input; S2 at small
// scale: an integer index_select returns zero rows) must fail `verify -d cpu`: the reference for
// integer and bool results never runs the kernel under test. The broken kernel replaces
// LibTorch's CPU kernel for the whole process while the test runs (each test runs in a process
// of its own under ctest).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/library.h>

#include "mlspeed/verify/op_suite.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {
namespace {

Target reference_cpu_target() {
  DeviceFacts cpu;
  cpu.id = "cpu";
  cpu.kind = "cpu";
  return make_target(cpu, /*fault_name=*/"");
}

// cumsum along the last dim of a 2-D tensor, by a loop: right for floating types, and for
// integers and bools it returns its input (as int64, the dtype cumsum gives them).
at::Tensor broken_cumsum(const at::Tensor& self, int64_t dim, c10::optional<at::ScalarType> dtype) {
  if (!at::isFloatingType(self.scalar_type())) return self.to(dtype.value_or(at::kLong));
  TORCH_CHECK(self.dim() == 2 && (dim == -1 || dim == 1), "the test's cumsum handles the last dim of 2-D only");
  const at::Tensor x = self.to(at::kDouble).contiguous();
  at::Tensor out = at::empty_like(x);
  const auto in = x.accessor<double, 2>();
  auto acc = out.accessor<double, 2>();
  for (int64_t r = 0; r < x.size(0); ++r) {
    double sum = 0;
    for (int64_t c = 0; c < x.size(1); ++c) acc[r][c] = sum += in[r][c];
  }
  return out.to(dtype.value_or(self.scalar_type()));
}

// index_select along dim 0 by a loop of select and stack: right for floating types; an int64
// table's rows past the 32nd come back zero.
at::Tensor broken_index_select(const at::Tensor& self, int64_t dim, const at::Tensor& index) {
  TORCH_CHECK(dim == 0 && index.dim() == 1 && index.numel() > 0, "the test's index_select handles dim 0 only");
  std::vector<at::Tensor> rows;
  for (int64_t i = 0; i < index.numel(); ++i) {
    const int64_t row = index[i].item<int64_t>();
    at::Tensor picked = self.select(0, row);
    if (self.scalar_type() == at::kLong && row >= 32) picked = at::zeros_like(picked);
    rows.push_back(picked);
  }
  return at::stack(rows);
}

std::vector<CheckResult> small_rows(const std::string& op, const std::string& dtype) {
  OpSuiteOptions options;
  options.ops = {op};
  options.dtypes = {dtype};
  options.layouts = {"contiguous"};
  options.size_classes = {"small"};
  return run_op_suite(reference_cpu_target(), options, nullptr);
}

std::vector<CheckResult> cumsum_rows(const std::string& dtype) { return small_rows("cumsum", dtype); }

TEST(CpuReference, ACpuWhoseIntegerCumsumReturnsItsInputFailsItsOwnVerification) {
  ASSERT_FALSE(cumsum_rows("int64").empty());
  for (const CheckResult& row : cumsum_rows("int64")) EXPECT_EQ(row.outcome, Outcome::pass) << describe(row);

  torch::Library broken(torch::Library::IMPL, "aten", c10::DispatchKey::CPU, __FILE__, __LINE__);
  broken.impl("cumsum", TORCH_FN(broken_cumsum));
  for (const std::string dtype : {"int64", "int16", "bool"}) {
    const auto rows = cumsum_rows(dtype);
    ASSERT_FALSE(rows.empty()) << dtype;
    for (const CheckResult& row : rows) {
      if (row.pass != "forward") continue;
      EXPECT_EQ(row.outcome, Outcome::fail) << dtype << ": " << describe(row);
    }
  }
  // Floating types go through the loop above, which is right: no false alarm from the override.
  for (const CheckResult& row : cumsum_rows("fp64"))
    if (row.pass == "forward") EXPECT_EQ(row.outcome, Outcome::pass) << describe(row);
}

TEST(CpuReference, ACpuWhoseInt64IndexSelectLosesRowsFailsItsOwnVerification) {
  ASSERT_FALSE(small_rows("index_select", "int64").empty());
  for (const CheckResult& row : small_rows("index_select", "int64"))
    EXPECT_EQ(row.outcome, Outcome::pass) << "healthy: " << describe(row);

  torch::Library broken(torch::Library::IMPL, "aten", c10::DispatchKey::CPU, __FILE__, __LINE__);
  broken.impl("index_select", TORCH_FN(broken_index_select));
  const auto rows = small_rows("index_select", "int64");
  ASSERT_FALSE(rows.empty());
  for (const CheckResult& row : rows) {
    EXPECT_EQ(row.outcome, Outcome::fail) << describe(row);
    EXPECT_NE(row.message.find("off by up to"), std::string::npos) << describe(row);
  }
  // Floating types go through the loop above, which is right: no false alarm from the override.
  for (const CheckResult& row : small_rows("index_select", "fp64"))
    if (row.pass == "forward") EXPECT_EQ(row.outcome, Outcome::pass) << describe(row);
}

}  // namespace
}  // namespace mlspeed::verify
