// A crash leaves what its bug report needs: the signal named and the stack, and then the process
// dies of that signal as it would have without the report (exit status 128 + the signal).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "testing/test_support.h"

namespace mlspeed {
namespace {

TEST(CrashReport, AFatalSignalNamesItselfPrintsTheStackAndKeepsItsExitStatus) {
  testing::TempDir dir;
  const std::string db = dir.file("r.db");
  testing::Child child({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16", "-b",
                        "1,2,3,4,5,6,7,8", "--min-time", "0.5", "-o", "jsonl", "--db", db});
  // A stored row: the program is well past main's first lines, where the report is set up.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (testing::count_table_rows(db, "results") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  child.signal(SIGSEGV);
  const testing::CliResult r = child.wait();
  EXPECT_EQ(r.exit_code, 128 + SIGSEGV) << r.err;
  EXPECT_NE(r.err.find("mlspeed: crashed: Segmentation fault. Please report it with the command line and this "
                       "backtrace:\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("mlspeed("), std::string::npos) << "frames in mlspeed itself, with their offsets: " << r.err;
}

}  // namespace
}  // namespace mlspeed
