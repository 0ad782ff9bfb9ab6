#include "mlspeed/bench/failure.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

namespace mlspeed {
namespace {

template <class F> Failure failure_of(F f) {
  try {
    f();
  } catch (...) {
    return classify_failure(std::current_exception());
  }
  return {Status::ok, ""};
}

TEST(Failure, TypedLibTorchErrors) {
  auto oom = failure_of([] { TORCH_CHECK_WITH(OutOfMemoryError, false, "CUDA out of memory."); });
  EXPECT_EQ(oom.status, Status::oom);
  EXPECT_EQ(oom.message.find('\n'), std::string::npos);  // no backtrace
  EXPECT_EQ(failure_of([] { TORCH_CHECK_NOT_IMPLEMENTED(false, "no kernel"); }).status, Status::unsupported);
}

TEST(Failure, UntypedLibTorchErrorsAreReadFromTheirMessage) {
  EXPECT_EQ(failure_of([] { TORCH_CHECK(false, "DefaultCPUAllocator: can't allocate memory"); }).status, Status::oom);
  EXPECT_EQ(failure_of([] { TORCH_CHECK(false, "\"addmm_impl_cpu_\" not implemented for 'Half'"); }).status,
            Status::unsupported);
  auto other = failure_of([] { TORCH_CHECK(false, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"); });
  EXPECT_EQ(other.status, Status::error);
  EXPECT_NE(other.message.find("shapes cannot be multiplied"), std::string::npos);
}

TEST(Failure, RealAllocationFailure) {
  EXPECT_EQ(failure_of([] { at::empty({int64_t{1} << 50}, at::kByte); }).status, Status::oom);
}

TEST(Failure, StandardExceptions) {
  EXPECT_EQ(failure_of([] { throw std::bad_alloc(); }).status, Status::oom);
  auto e = failure_of([] { throw std::runtime_error("first line\nsecond line"); });
  EXPECT_EQ(e.status, Status::error);
  EXPECT_EQ(e.message, "first line");
  EXPECT_EQ(failure_of([] { throw 42; }).status, Status::error);
}

}  // namespace
}  // namespace mlspeed
