// Run files and databases written to hurt (issue 19): values nested 100,000 deep, a speed run
// edited into a verification run, versions that do not exist, a run whose stored context is not
// JSON, control characters in every text field, files cut short. Each is refused (or shown) with
// one short line and the exit status the README promises, never a crash, a forged verdict or raw
// bytes on the terminal. Runs are hand-written files (`show FILE`, `import`), never `mlspeed run`:
// the suite runs under AddressSanitizer in CI.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed::hostile_files {
namespace {

using testing::CliResult;
using testing::contains;
using testing::run_cli;
using testing::TempDir;

// One row of each kind, as `show -o jsonl` writes them (the fields the tables use), one a line.
std::string speed_row(const std::string& workload = "\"bert-base-infer\"", const std::string& samples = "[1.0, 1.1, 0.9]") {
  return R"({"workload": )" + workload + R"(, "size": "tiny", "device": "cpu", "dtype": "fp32", "batch": 1, )"
         R"("seq_len": 16, "status": "ok", "iterations": 3, "median_ms": 1.0, "mean_ms": 1.0, "stddev_ms": 0.1, )"
         R"("min_ms": 0.9, "max_ms": 1.1, "items_per_s": 1000.0, "item_unit": "samples", "samples_ms": )" +
         samples + "}";
}
// A run file as `mlspeed export` writes it, with `rows` as the body of its "rows" array.
std::string run_file(const std::string& kind, const std::string& rows, const std::string& version = "1",
                     const std::string& label = "base") {
  return R"({"mlspeed_run_file": )" + version + R"(,
 "run": {"id": 7, "started_at": "2026-01-02T03:04:05Z", "finished_at": "2026-01-02T03:05:00Z",
         "status": "complete", "command": "mlspeed run", "kind": ")" +
         kind + R"(", "label": ")" + label + R"("},
 "context": {"started_at": "2026-01-02T03:04:05Z", "command": "mlspeed run", "host": {"hostname": "lab"},
             "devices": [{"id": "cpu", "kind": "cpu", "name": "cpu"}]},
 "rows": [)" + rows + "]}\n";
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A refusal: exit status 2, one line on stderr (short: no value echoed whole), nothing on stdout.
void expect_one_line_refusal(const CliResult& r, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err.substr(0, 400);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err.substr(0, 400);
  EXPECT_LT(r.err.size(), 400u) << what << "\n" << r.err.substr(0, 400);
  EXPECT_EQ(r.out, "") << what;
}

class HostileFiles : public ::testing::Test {
 protected:
  std::string file(const std::string& name, const std::string& content) const {
    const std::string path = dir_.file(name);
    testing::write_file(path, content);
    return path;
  }
  std::string db() const { return dir_.file("results.db"); }
  TempDir dir_;
};

TEST_F(HostileFiles, ValuesNestedDeepAreRefusedAtTheirByteWithoutEchoingThem) {
  const std::string deep = nested(100000);
  // "rows" itself nested: the object opens level 1, so the bracket opening level 17 is the 16th.
  const std::string in_rows = R"({"mlspeed_run_file": 1, "run": {"kind": "run"}, "context": {}, "rows": )" + deep + "}";
  const size_t level_17 = in_rows.find('[') + 15;
  const std::vector<std::pair<std::string, std::string>> files = {
      {"rows.json", in_rows},
      {"field.json", run_file("run", speed_row(deep))},
      {"samples.json", run_file("run", speed_row("\"bert-base-infer\"", deep))},
      {"show.json", "[" + speed_row() + ",\n" + deep + "]\n"},
      {"show.jsonl", speed_row() + "\n" + R"({"workload": )" + deep + "}\n"},
      {"samples-1k.json", run_file("run", speed_row("\"bert-base-infer\"", nested(1000)))},
  };
  for (const auto& [name, content] : files) {
    const CliResult r = run_cli({"import", file(name, content), "--db", db()});
    expect_one_line_refusal(r, name);
    EXPECT_TRUE(contains(r.err, name)) << r.err.substr(0, 400);
    EXPECT_TRUE(contains(r.err, "byte ")) << r.err.substr(0, 400);
    EXPECT_TRUE(contains(r.err, "16 levels")) << r.err.substr(0, 400);
  }
  const CliResult r = run_cli({"import", dir_.file("rows.json"), "--db", db()});
  EXPECT_TRUE(contains(r.err, "byte " + std::to_string(level_17))) << r.err.substr(0, 400);
  EXPECT_TRUE(contains(run_cli({"import", dir_.file("show.jsonl"), "--db", db()}).err, "line 2"));

  // Every command that reads a run file refuses it the same way.
  const std::string deep_file = dir_.file("samples.json");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"show", dir_.file("show.json")}, {"compare", deep_file, deep_file},
        {"export", deep_file}, {"report", deep_file, "-o", dir_.file("r.md")}})
    expect_one_line_refusal(run_cli(testing::with(args, {"--db", db()})), args[0]);
}

TEST_F(HostileFiles, OnlyRunFileVersionsThatExistAreRead) {
  // 2^64 - 1 read as a signed number is -1, which is not newer than 1 (the whole list is a unit test).
  for (const std::string version : {"18446744073709551615", "\"1\""}) {
    const CliResult r = run_cli({"import", file("v.json", run_file("run", speed_row(), version)), "--db", db()});
    expect_one_line_refusal(r, version);
    EXPECT_TRUE(contains(r.err, "reads run file version 1")) << r.err;
  }
}

// A file cut short in the middle (a copy or download that stopped): where it ends, not just "not a run".
TEST_F(HostileFiles, AFileCutShortIsRefusedAtTheByteWhereItEnds) {
  const std::string whole = run_file("run", speed_row() + ",\n" + speed_row());
  const std::string cut = whole.substr(0, whole.size() / 2);
  const CliResult r = run_cli({"import", file("cut.json", cut), "--db", db()});
  expect_one_line_refusal(r, "an export cut short");
  EXPECT_TRUE(contains(r.err, "byte " + std::to_string(cut.size()))) << r.err;

  const std::string one_a_line = speed_row() + "\n" + speed_row().substr(0, speed_row().size() / 2);
  const CliResult l = run_cli({"import", file("cut.jsonl", one_a_line), "--db", db()});
  expect_one_line_refusal(l, "jsonl cut short");
  EXPECT_TRUE(contains(l.err, "line 2")) << l.err;
  EXPECT_TRUE(contains(l.err, "byte " + std::to_string(one_a_line.size()))) << l.err;
}

}  // namespace
}  // namespace mlspeed::hostile_files
