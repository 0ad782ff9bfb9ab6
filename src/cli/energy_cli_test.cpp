// `mlspeed run`'s energy on the CPU end to end, through a powercap tree of the test's own
// (MLSPEED_SYSFS_ROOT): joules, watts and the clock in every row when the counters can be read
// (a thread of the test advances the package's counter at 10 W while the program runs), one line
// under the table saying why when they cannot, nothing with --energy off.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "mlspeed/results/printers.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;
using testing::TempDir;
using testing::with;

const std::vector<std::string> kTinyBert = {"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny",
                                            "-b", "1", "-s", "16", "--warmup", "1"};

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  const fs::path partial = path.string() + ".partial";
  std::ofstream(partial) << text << "\n";
  fs::rename(partial, path);  // whole, never half a file
}

TEST(EnergyCli, ACpuWithoutRaplSaysWhyInOneLineUnderTheTableAndInEveryRow) {
  TempDir dir;
  const std::map<std::string, std::string> env = {{"MLSPEED_SYSFS_ROOT", dir.path()}};
  const auto md = run_cli(with(kTinyBert, {"-n", "2", "--db", dir.file("r.db")}), env);
  ASSERT_EQ(md.exit_code, 0) << md.err;
  const std::string line = "\nEnergy:\n- cpu: not available: no RAPL energy counters under " + dir.path() +
                           "/class/powercap (a virtual machine, or a CPU or kernel without RAPL)\n";
  EXPECT_NE(md.out.find(line), std::string::npos) << md.out;
  const auto jsonl = run_cli(with(kTinyBert, {"-n", "2", "-o", "jsonl", "--db", dir.file("r.db")}), env);
  const std::vector<Result> rows = parse_results(Format::jsonl, jsonl.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].joules_per_step.has_value());
  EXPECT_EQ(rows[0].energy_note.rfind("not available: no RAPL", 0), 0u) << rows[0].energy_note;
}

TEST(EnergyCli, ACpuWithRaplCountersGetsJoulesWattsAndItsClockInEveryRow) {
  TempDir dir;
  const fs::path package = fs::path(dir.path()) / "class/powercap/intel-rapl:0";
  write(package / "name", "package-0");
  write(package / "max_energy_range_uj", "262143328850");
  write(package / "energy_uj", "0");
  write(fs::path(dir.path()) / "devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2000000");
  // The package draws 10 W: 10,000 uJ a millisecond, written every 2 ms while the program runs.
  std::atomic<bool> running{true};
  struct Join {  // the writer stops whatever the test does
    std::atomic<bool>& running;
    std::thread thread;
    ~Join() {
      running = false;
      if (thread.joinable()) thread.join();
    }
  } counter{running, std::thread([&] {
    const auto start = std::chrono::steady_clock::now();
    while (running) {
      const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      write(package / "energy_uj", std::to_string(static_cast<long long>(ms * 1e4)));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  })};
  const auto r = run_cli(with(kTinyBert, {"--min-time", "0.5", "-o", "jsonl", "--db", dir.file("r.db")}),
                         {{"MLSPEED_SYSFS_ROOT", dir.path()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<Result> rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  const Result& row = rows[0];
  EXPECT_EQ(row.energy_source, "rapl package-0");
  EXPECT_TRUE(row.energy_note.empty()) << row.energy_note;
  ASSERT_TRUE(row.watts.has_value());
  EXPECT_NEAR(*row.watts, 10, 1.5);
  ASSERT_TRUE(row.joules_per_step && row.joules_per_item && row.items_per_joule);
  EXPECT_NEAR(*row.joules_per_step, *row.watts * row.summary.mean / 1e3, 0.5 * *row.joules_per_step)
      << "a step's energy is about its time at the mean power";
  EXPECT_DOUBLE_EQ(*row.joules_per_item, *row.joules_per_step / row.items_per_step);
  EXPECT_EQ(row.clock_median_mhz, 2000);
}

TEST(EnergyCli, OffReadsNothingAndSaysNothing) {
  TempDir dir;
  const auto r = run_cli(with(kTinyBert, {"-n", "2", "--energy", "off", "-o", "jsonl", "--db", dir.file("r.db")}),
                         {{"MLSPEED_SYSFS_ROOT", dir.path()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<Result> rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].energy_note.empty());
  EXPECT_FALSE(rows[0].joules_per_step.has_value());
  const auto bad = run_cli(with(kTinyBert, {"--energy", "maybe"}));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--energy: unknown value 'maybe'; choose from: on, off"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace mlspeed
