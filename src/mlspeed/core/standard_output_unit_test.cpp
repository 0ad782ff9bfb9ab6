#include "mlspeed/core/standard_output.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>

#include "testing/test_support.h"

namespace mlspeed {
namespace {

// /dev/full takes no byte: every write fails with ENOSPC, as on a full disk.
int open_full_device() { return ::open("/dev/full", O_WRONLY | O_CLOEXEC); }

TEST(StandardOutput, EverythingWrittenReachesTheFileInOrder) {
  testing::TempDir dir;
  const std::string path = dir.file("out.txt");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  const std::string big(200 * 1024, 'x');  // more than the buffer holds
  std::ostream out(nullptr);
  {
    const CheckedOutput checked(out, fd);
    out << "head\n" << big << 'y' << "tail\n";
    EXPECT_TRUE(out.flush());
  }
  ::close(fd);
  EXPECT_EQ(testing::read_file(path), "head\n" + big + "ytail\n");
}

TEST(StandardOutput, AFailedWriteKeepsItsReasonAndTheStreamStaysFailed) {
  const int fd = open_full_device();
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  std::ostream out(nullptr);
  {
    const CheckedOutput checked(out, fd);
    out << "lost";
    EXPECT_FALSE(out.flush());
    const auto* buffer = dynamic_cast<const FdOutputBuffer*>(out.rdbuf());
    ASSERT_NE(buffer, nullptr);
    EXPECT_EQ(buffer->error(), ENOSPC);
    out.clear();
    out << "more" << std::flush;
    EXPECT_FALSE(out) << "a later write must not look as if it succeeded";
  }
  ::close(fd);
}

TEST(StandardOutput, StdoutFailureSaysWhyStdCoutCannotBeWritten) {
  const int fd = open_full_device();
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  {
    const CheckedOutput checked(std::cout, fd);
    EXPECT_EQ(stdout_failure(), "");  // nothing written yet
    std::cout << "lost";
    EXPECT_EQ(stdout_failure(), "No space left on device");
  }
  ::close(fd);
  EXPECT_TRUE(std::cout) << "the stream's own buffer is back";
}

}  // namespace
}  // namespace mlspeed
