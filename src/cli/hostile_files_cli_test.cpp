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
const char* kCheckRow = R"({"device": "cpu", "level": "op", "check": "gelu", "variant": "square",
 "layout": "contiguous", "dtype": "fp32", "shape": "4x4", "size_class": "small", "pass": "forward",
 "outcome": "pass", "message": ""})";

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

// What a terminal must never be sent: control bytes but the line break, and DEL.
bool has_raw_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return (c < 0x20 && c != '\n') || c == 0x7f; });
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


// A speed run edited to say "verify" would print a PASS verdict from no check at all; the reverse
// would store a run with no rows. Every row must be a row of the run's kind.
TEST_F(HostileFiles, RowsOfTheOtherKindAreRefusedNamingTheRow) {
  const CliResult forged = run_cli({"import", file("forged.json", run_file("verify", speed_row())), "--db", db()});
  expect_one_line_refusal(forged, "speed rows in a verify run");
  EXPECT_TRUE(contains(forged.err, "row 1")) << forged.err;
  EXPECT_FALSE(contains(forged.out, "PASS")) << forged.out;
  const CliResult shown = run_cli({"show", dir_.file("forged.json")});
  expect_one_line_refusal(shown, "show of the forged file");
  EXPECT_FALSE(contains(shown.out, "PASS")) << shown.out;

  const std::string mixed = run_file("verify", std::string(kCheckRow) + ",\n" + speed_row());
  const CliResult second = run_cli({"import", file("mixed.json", mixed), "--db", db()});
  expect_one_line_refusal(second, "a speed row after a check");
  EXPECT_TRUE(contains(second.err, "row 2")) << second.err;

  const CliResult reverse = run_cli({"import", file("reverse.json", run_file("run", kCheckRow)), "--db", db()});
  expect_one_line_refusal(reverse, "a check in a speed run");
  EXPECT_TRUE(contains(reverse.err, "row 1")) << reverse.err;
  EXPECT_LE(testing::count_table_rows(db(), "runs"), 0);  // nothing was stored
}

TEST_F(HostileFiles, AVerifyRunWithNoChecksGetsNoVerdict) {
  const CliResult imported = run_cli({"import", file("none.json", run_file("verify", "")), "--db", db()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const CliResult shown = run_cli({"show", "1", "--db", db()});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_FALSE(contains(shown.out, "PASS")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "No checks")) << shown.out;
  const CliResult report = run_cli({"report", "1", "--output", dir_.file("r.md"), "--db", db()});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string page = testing::read_file(dir_.file("r.md"));
  EXPECT_FALSE(contains(page, "PASS")) << page;
  EXPECT_TRUE(contains(page, "no checks")) << page;
}

TEST_F(HostileFiles, OnlyRunFileVersionsThatExistAreRead) {
  // 2^64 - 1 read as a signed number is -1, which is not newer than 1 (the whole list is a unit test).
  for (const std::string version : {"18446744073709551615", "\"1\""}) {
    const CliResult r = run_cli({"import", file("v.json", run_file("run", speed_row(), version)), "--db", db()});
    expect_one_line_refusal(r, version);
    EXPECT_TRUE(contains(r.err, "reads run file version 1")) << r.err;
  }
}

// One run whose stored context is not JSON: every other run still lists, shows and reports.
TEST_F(HostileFiles, ARunWithADamagedContextHidesOnlyItself) {
  for (const std::string label : {"base", "new"}) {
    const CliResult r = run_cli({"import", file("a.json", run_file("run", speed_row())), "--label", label, "--db", db()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  testing::raw_sql(db(), "UPDATE runs SET context_json = '{\"host\": ' WHERE id = 1");

  const CliResult history = run_cli({"history", "--db", db()});
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(contains(history.out, "|   2 |") && contains(history.out, "|   1 |")) << history.out;
  EXPECT_TRUE(contains(history.out + history.err, "run 1: its context (column context_json)")) << history.err;
  for (const std::vector<std::string>& readable : {std::vector<std::string>{"show", "last"}, {"show", "label:new"},
                                                   {"report", "--output", dir_.file("r.md")}}) {
    const CliResult r = run_cli(testing::with(readable, {"--db", db()}));
    EXPECT_EQ(r.exit_code, 0) << readable[1] << ": " << r.err;
  }
  const CliResult damaged = run_cli({"show", "label:base", "--db", db()});
  expect_one_line_refusal(damaged, "show of the damaged run");
  EXPECT_TRUE(contains(damaged.err, "run 1")) << damaged.err;
  EXPECT_TRUE(contains(damaged.err, "context_json")) << damaged.err;
}

// Labels, names, hosts, messages from another machine's file, each holding an escape sequence,
// NUL, BEL, DEL and a line break followed by text pretending to be a line of output.
TEST_F(HostileFiles, ControlCharactersInImportedTextNeverReachTheTerminal) {
  const std::string e = R"(ev\u001b[2Jil\u0000\n\u0007INJECTED\u007f)";
  const std::string row = R"({"workload": "bert)" + e + R"(", "size": "tiny)" + e + R"(", "device": "cpu)" + e +
                          R"(", "dtype": "fp32", "batch": 1, "status": "error", "message": "m)" + e +
                          R"(", "weights": "w)" + e + R"(", "data": "d)" + e + R"("})";
  const std::string timed = R"({"workload": "bert)" + e + R"(", "device": "cpu)" + e +
                            R"(", "dtype": "fp32", "batch": 2, "status": "ok", "median_ms": 1.0, "noise": "n)" + e +
                            R"(", "item_unit": "u)" + e + R"(", "samples_ms": [1.0, 1.1, 0.9]})";
  const std::string text = R"({"mlspeed_run_file": 1, "run": {"status": "complete)" + e + R"(", "command": "c)" + e +
                           R"(", "started_at": "s)" + e + R"(", "kind": "run", "label": "l)" + e +
                           R"("}, "context": {"started_at": "s)" + e + R"(", "host": {"hostname": "h)" + e +
                           R"(", "os": "o)" + e + R"(", "cpu_model": "c)" + e + R"(", "torch_version": "t)" + e +
                           R"(", "cuda_version": "c)" + e + R"(", "cudnn_version": "c)" + e + R"(", "blas": "b)" + e +
                           R"(", "mlspeed_version": "m)" + e + R"(", "build_type": "b)" + e + R"(", "compiler": "c)" +
                           e + R"("}, "devices": [{"id": "cpu)" + e + R"(", "kind": "cpu", "name": "n)" + e +
                           R"(", "driver": "d)" + e + R"(", "compute_capability": "c)" + e +
                           R"(", "peak_source": "p)" + e + R"(", "peak_flops": {"fp32": 1e12}, "bandwidth_source": "b)" +
                           e + R"(", "peak_bandwidth": 1e11}]}, "rows": [)" + row + ", " + timed + "]}";
  const std::string path = file("evil.json", text);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"show", path}, {"show", path, "--wide"}, {"compare", path, path}}) {
    const CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    for (const std::string* stream : {&r.out, &r.err}) {
      EXPECT_FALSE(has_raw_control(*stream)) << args[0] << ":\n" << *stream;
      EXPECT_FALSE(contains(*stream, "\nINJECTED")) << args[0] << ":\n" << *stream;
    }
  }
}

TEST_F(HostileFiles, ImportAdvisesOnlyOptionsItTakes) {
  const std::string not_a_db = file("notes.db", "not an SQLite file\n");
  const CliResult r = run_cli({"import", file("a.json", run_file("run", speed_row())), "--db", not_a_db});
  expect_one_line_refusal(r, "an import into a file that is not a database");
  EXPECT_TRUE(contains(r.err, "--db")) << r.err;
  EXPECT_FALSE(contains(r.err, "--no-db")) << r.err;
}

// A file name, or a value in a file, holding a line break still makes one line of error.
TEST_F(HostileFiles, EveryErrorIsOneLine) {
  const CliResult named = run_cli({"show", file("two\nlines.json", "hello\n")});
  expect_one_line_refusal(named, "a file name with a line break");
  const std::string row = R"({"workload": "bert-base-infer", "device": "cpu", "status": "ok", "dtype": "fp\n32"})";
  const CliResult value = run_cli({"import", file("value.json", run_file("run", row)), "--db", db()});
  expect_one_line_refusal(value, "a dtype with a line break");
  const CliResult kind = run_cli({"import", file("kind.json", run_file("k\nind", speed_row())), "--db", db()});
  expect_one_line_refusal(kind, "a kind with a line break");
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
