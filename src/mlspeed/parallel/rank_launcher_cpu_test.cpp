// The rank launcher with this test binary as the ranks' program: run with MLSPEED_LAUNCHER_TEST
// set, RankLauncher.Worker is one rank and does what the variable says. Every rank told its place;
// a rank that fails stops the others at once; a launch that hangs is killed at its timeout;
// nothing a rank started outlives the launch; the rendezvous directory goes with it.
#include "mlspeed/parallel/rank_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>

namespace mlspeed::parallel {
namespace {

// Each rank, by MLSPEED_LAUNCHER_TEST:
//   echo         prints "rank R of N meets at STORE" (and "gpu G" from CUDA_VISIBLE_DEVICES) and succeeds
//   rank1-fails  rank 1 says why on its standard error and exits with status 3; the others wait a minute
//   rank0-killed rank 0 is killed (SIGKILL, as the kernel's OOM killer kills; a sanitizer would catch
//                a SIGSEGV and turn it into SIGABRT); the others wait a minute
//   hang         every rank waits a minute
//   grandchild   starts a process that waits a minute, prints its pid, and succeeds
TEST(RankLauncher, Worker) {
  const char* behaviour = std::getenv("MLSPEED_LAUNCHER_TEST");
  if (!behaviour) GTEST_SKIP() << "a rank of the tests below, run by them";
  die_with_launcher();
  const RankPlace place = rank_place();
  const std::string what = behaviour;
  if (what == "echo") {
    std::cout << "rank " << place.rank << " of " << place.world_size << " meets at " << place.rendezvous << std::endl;
    if (const char* gpu = std::getenv("CUDA_VISIBLE_DEVICES")) std::cout << "gpu " << gpu << std::endl;
    return;
  }
  if (what == "grandchild") {
    const pid_t child = fork();
    if (child == 0) {
      sleep(60);
      _exit(0);
    }
    std::cout << "grandchild " << child << std::endl;
    return;
  }
  if (what == "rank1-fails" && place.rank == 1) {
    std::cerr << "rank 1: the store could not be reached" << std::endl;
    std::_Exit(3);
  }
  if (what == "rank0-killed" && place.rank == 0) raise(SIGKILL);
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

// Whether `pid` has ended: no such process, or a zombie (its state in /proc/PID/stat is Z).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z';
}

LaunchRequest request(const std::string& behaviour, int ranks) {
  LaunchRequest r;
  r.world_size = ranks;
  r.program = std::filesystem::read_symlink("/proc/self/exe").string();
  r.args = {"--gtest_filter=RankLauncher.Worker"};
  r.env = {{"MLSPEED_LAUNCHER_TEST", behaviour}};
  r.timeout = std::chrono::seconds(30);
  r.grace = std::chrono::milliseconds(500);
  return r;
}

TEST(RankLauncher, EveryRankIsToldItsPlaceAndTheRendezvousGoesWithTheLaunch) {
  const LaunchOutcome o = launch_ranks(request("echo", 3));
  ASSERT_TRUE(o.ok()) << o.failure();
  EXPECT_EQ(o.failure(), "");
  ASSERT_EQ(o.ranks.size(), 3u);
  std::string store;
  for (int r = 0; r < 3; ++r) {
    const std::string& out = o.ranks[r].out;
    const std::string prefix = "rank " + std::to_string(r) + " of 3 meets at ";
    const size_t at = out.find(prefix);
    ASSERT_NE(at, std::string::npos) << out;
    const std::string here = out.substr(at + prefix.size(), out.find('\n', at) - at - prefix.size());
    if (r == 0) store = here;
    EXPECT_EQ(here, store) << "one rendezvous for every rank";
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(store).parent_path())) << store;
}

TEST(RankLauncher, EachRankGetsAnEnvironmentOfItsOwn) {
  LaunchRequest r = request("echo", 2);
  r.rank_env = {{{"CUDA_VISIBLE_DEVICES", "3"}}, {{"CUDA_VISIBLE_DEVICES", "5"}}};
  const LaunchOutcome o = launch_ranks(r);
  ASSERT_TRUE(o.ok()) << o.failure();
  EXPECT_NE(o.ranks[0].out.find("gpu 3\n"), std::string::npos) << o.ranks[0].out;
  EXPECT_NE(o.ranks[1].out.find("gpu 5\n"), std::string::npos) << o.ranks[1].out;
}

TEST(RankLauncher, AStopFlagStopsEveryRank) {
  std::atomic<bool> stop{false};
  LaunchRequest r = request("hang", 2);
  r.stop = &stop;
  std::thread interrupt([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop = true;
  });
  const LaunchOutcome o = launch_ranks(r);
  interrupt.join();
  EXPECT_FALSE(o.ok());
  EXPECT_TRUE(o.interrupted);
  EXPECT_LT(o.seconds, 20);
  EXPECT_TRUE(o.ranks[0].stopped && o.ranks[1].stopped);
  EXPECT_EQ(o.failure(), "interrupted; every rank was stopped");
}

TEST(RankLauncher, ARankThatFailsStopsTheOthersAtOnceAndIsNamed) {
  const LaunchOutcome o = launch_ranks(request("rank1-fails", 3));
  EXPECT_FALSE(o.ok());
  EXPECT_FALSE(o.timed_out);
  EXPECT_LT(o.seconds, 20) << "the others were not left to wait their minute";
  EXPECT_EQ(o.ranks[1].exit_code, 3);
  EXPECT_FALSE(o.ranks[1].stopped);
  EXPECT_TRUE(o.ranks[0].stopped);
  EXPECT_TRUE(o.ranks[2].stopped);
  EXPECT_EQ(o.failure(), "rank 1 exited with status 3: rank 1: the store could not be reached");
}

TEST(RankLauncher, ARankKilledByASignalIsNamedWithIt) {
  const LaunchOutcome o = launch_ranks(request("rank0-killed", 2));
  EXPECT_FALSE(o.ok());
  EXPECT_EQ(o.ranks[0].signal, SIGKILL);
  EXPECT_FALSE(o.ranks[0].stopped) << "killed, but not by the launcher";
  EXPECT_TRUE(o.ranks[1].stopped);
  EXPECT_EQ(o.failure().rfind("rank 0 died of signal " + std::to_string(SIGKILL) + " (", 0), 0u) << o.failure();
}

TEST(RankLauncher, ALaunchThatHangsIsKilledAtItsTimeout) {
  LaunchRequest r = request("hang", 2);
  r.timeout = std::chrono::seconds(2);
  const LaunchOutcome o = launch_ranks(r);
  EXPECT_FALSE(o.ok());
  EXPECT_TRUE(o.timed_out);
  EXPECT_LT(o.seconds, 20);
  for (const RankOutcome& rank : o.ranks) {
    EXPECT_TRUE(rank.stopped);
    EXPECT_EQ(rank.signal, SIGKILL);
  }
  EXPECT_EQ(o.failure(), "the ranks did not finish within 2 s; every rank was stopped");
}

TEST(RankLauncher, NothingARankStartedOutlivesTheLaunch) {
  const LaunchOutcome o = launch_ranks(request("grandchild", 2));
  ASSERT_TRUE(o.ok()) << o.failure();
  for (const RankOutcome& rank : o.ranks) {
    const size_t at = rank.out.find("grandchild ");
    ASSERT_NE(at, std::string::npos) << rank.out;
    const pid_t pid = static_cast<pid_t>(std::atol(rank.out.c_str() + at + 11));
    // Killed with the rank's process group: gone, or a zombie until whoever adopted it reaps it.
    bool gone = false;
    for (int i = 0; i < 200 && !(gone = process_gone(pid)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(gone) << "pid " << pid << " still runs";
  }
}

TEST(RankLauncher, AProgramThatCannotBeRunIsAFailedRank) {
  LaunchRequest r = request("echo", 1);
  r.program = "/nonexistent/mlspeed";
  const LaunchOutcome o = launch_ranks(r);
  EXPECT_FALSE(o.ok());
  EXPECT_EQ(o.failure(), "rank 0 could not be started: /nonexistent/mlspeed: No such file or directory");
}

}  // namespace
}  // namespace mlspeed::parallel
