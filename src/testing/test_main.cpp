// The test binaries' main: GoogleTest's, except that a run in which every selected test skipped
// itself (a GPU suite on a machine without one) exits 77, which CTest reports as skipped
// (SKIP_RETURN_CODE) rather than passed. Memory is allocated as the mlspeed program allocates it.
#include <gtest/gtest.h>

#include "mlspeed/device/cpu_setup.h"

int main(int argc, char** argv) {
  mlspeed::keep_freed_cpu_memory();
  ::testing::InitGoogleTest(&argc, argv);
  const int status = RUN_ALL_TESTS();
  const ::testing::UnitTest& tests = *::testing::UnitTest::GetInstance();
  if (status == 0 && tests.successful_test_count() == 0 && tests.skipped_test_count() > 0) return 77;
  return status;
}
