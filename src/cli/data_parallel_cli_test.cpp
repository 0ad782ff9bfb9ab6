// `mlspeed run --ddp N` end to end on the CPU: each training configuration timed on one device and
// then by two ranks (processes of mlspeed itself, meeting over Gloo), the data-parallel row stored
// beside the one-device row with its scaling efficiency and bus bandwidth; and what --ddp refuses,
// with exit status 2, before anything runs.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "mlspeed/results/printers.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;
using testing::with;

const std::vector<std::string> kTinyDdp = {"run", "-w", "gpt2-train", "-d", "cpu", "--sizes", "tiny", "-b", "2",
                                           "-s", "8", "-n", "3", "--ddp", "2"};

TEST(DataParallelCli, TwoRanksOnTheCpuGiveARowBesideTheOneDeviceRowAndBothAreStored) {
#if MLSPEED_HAS_GLOO
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto r = run_cli(with(kTinyDdp, {"-o", "jsonl", "--db", db}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("timing gpt2-train b2 data-parallel on 2 devices"), std::string::npos) << r.err;
  const std::vector<Result> rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 2u);
  const Result& one = rows[0];
  const Result& two = rows[1];
  ASSERT_EQ(one.status, Status::ok) << one.message;
  ASSERT_EQ(two.status, Status::ok) << two.message;
  EXPECT_EQ(one.world_size, 1);
  EXPECT_FALSE(one.data_parallel);
  EXPECT_EQ(two.world_size, 2);
  EXPECT_TRUE(two.data_parallel);
  EXPECT_EQ(two.batch, 2) << "each rank's batch";
  EXPECT_EQ(two.items_per_step, 2 * one.items_per_step);
  EXPECT_EQ(two.samples_ms.size(), 3u) << "as many steps as the one-device row";
  ASSERT_TRUE(two.scaling_efficiency && two.items_per_s && one.items_per_s);
  EXPECT_DOUBLE_EQ(*two.scaling_efficiency, *two.items_per_s / (2 * *one.items_per_s));
  ASSERT_TRUE(two.allreduce_busbw_gb_s.has_value());
  EXPECT_GT(*two.allreduce_busbw_gb_s, 0);
  EXPECT_EQ(two.graphs, GraphUse::off);

  const auto shown = run_cli({"show", "last", "--db", db, "-o", "jsonl"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const std::vector<Result> stored = parse_results(Format::jsonl, shown.out);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].world_size, 2);
  EXPECT_EQ(stored[1].scaling_efficiency, two.scaling_efficiency);

  const auto table = run_cli({"show", "last", "--db", db});
  EXPECT_NE(table.out.find("ddp x2"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("scaling"), std::string::npos) << table.out;
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

// How many processes run with `needle` among their arguments.
int processes_with_argument(const std::string& needle) {
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(needle) != std::string::npos) ++found;
  }
  return found;
}

TEST(DataParallelCli, CtrlCWhileTheRanksRunStopsThemAndTheRunIsInterrupted) {
#if MLSPEED_HAS_GLOO
  TempDir dir;
  const std::string db = dir.file("results.db");
  const std::string seed = "424242";  // marks this test's processes
  testing::Child child({"run", "-w", "gpt2-train", "-d", "cpu", "--sizes", "tiny", "-b", "2", "-s", "8", "-n", "2000",
                        "--ddp", "2", "--seed", seed, "--db", db});
  // The one-device row is stored before the ranks start; they then take as many steps, seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (testing::count_table_rows(db, "results") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  while (processes_with_argument(seed) < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  child.signal(SIGINT);
  const auto r = child.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  // The plan counts the data-parallel configuration too: the one-device row is 1 of 2.
  EXPECT_NE(r.err.find("interrupted after 1 of 2 configurations"), std::string::npos) << r.err;
  EXPECT_EQ(testing::count_table_rows(db, "results"), 1) << "the one-device row kept, no failed row added";
  EXPECT_EQ(processes_with_argument(seed), 0) << "no rank left running";
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

TEST(DataParallelCli, WhatCannotRunDataParallelIsRefusedBeforeAnythingRuns) {
  const auto refused = [](const std::vector<std::string>& args, const std::string& why) {
    const auto r = run_cli(with(args, {"--no-db"}));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << "nothing ran";
  };
  refused({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "--ddp", "2"},
          "bert-base-infer does not train");
  refused(with(kTinyDdp, {"--profile", "/tmp/mlspeed-ddp-profile"}), "--ddp and --profile");
  refused({"run", "-w", "gpt2-train", "-d", "cpu", "--ddp", "0"}, "--ddp");
  refused({"run", "-w", "gpt2-train", "-d", "cpu", "--ddp", "65"}, "--ddp");
}

}  // namespace
}  // namespace mlspeed
