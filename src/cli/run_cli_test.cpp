// `mlspeed run` and `mlspeed show` end to end on the CPU at the tiny size: every output format
// read back, the database holding the same rows, failures as rows, Ctrl-C.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/core/files.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

const std::vector<std::string> kTinyBoth = {"run", "-w", "nanogpt-shakespeare-char,bert-base-infer", "-d", "cpu",
                                            "--sizes", "tiny", "-n", "2", "--warmup", "1"};

using testing::with;

// Rows equal field by field (timestamps and samples included).
void expect_same_rows(const std::vector<Result>& a, const std::vector<Result>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    for (const auto& f : result_fields())
      EXPECT_EQ(value_to_text(f.get(a[i])), value_to_text(f.get(b[i]))) << "row " << i << " field " << f.name;
}

int64_t count_rows(const std::string& db) { return testing::count_table_rows(db, "results"); }

TEST(Run, BothWorkloadsAtTinySizeOnTheCpuAndTheDatabaseGivesTheSameRowsBack) {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto r = run_cli(with(kTinyBoth, {"-o", "jsonl", "--db", db}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u + 4u);  // nanoGPT tiny: b4 x s32; BERT tiny: b{1,2} x s{16,32}
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::ok) << row.workload << ": " << row.message;
    EXPECT_EQ(row.samples_ms.size(), 2u);
    EXPECT_GT(row.summary.median, 0);
    EXPECT_GT(row.run_id, 0);
    ASSERT_TRUE(row.items_per_s && row.tflops && row.mfu) << row.workload;
    EXPECT_GT(*row.mfu, 0);
    EXPECT_LT(*row.mfu, 1.5);  // against the theoretical peak, or (no /proc/cpuinfo) a fast measured matmul
    EXPECT_EQ(row.device, "cpu");
    EXPECT_FALSE(row.host.cpu_model.empty());
    EXPECT_FALSE(row.host.torch_version.empty());
  }
  EXPECT_EQ(rows[0].workload, "nanogpt-shakespeare-char");
  EXPECT_EQ(rows[0].item_unit, "tokens");
  EXPECT_EQ(rows[0].items_per_step, 4 * 32);
  EXPECT_EQ(rows[1].workload, "bert-base-infer");
  EXPECT_NE(r.err.find("stored run"), std::string::npos);
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress line when stderr is not a terminal";

  for (const char* format : {"jsonl", "json", "csv"}) {
    const auto shown = run_cli({"show", "--db", db, "-o", format});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    expect_same_rows(rows, parse_results(*parse_format(format), shown.out));
  }
  const std::string stored = testing::read_file(db);
  const auto md = run_cli({"show", "--db", db});
  EXPECT_EQ(testing::read_file(db), stored) << "show must not change the database";
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| nanogpt-shakespeare-char"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("tokens/s"), std::string::npos) << md.out;
}

TEST(Run, EveryOutputFormatReadsBack) {
  TempDir dir;
  for (const char* format : {"json", "csv", "jsonl"}) {
    const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-b", "2", "-s", "16",
                            "-n", "3", "-o", format, "--no-db"},
                           {{"MLSPEED_DB", dir.file("unused.db")}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto rows = parse_results(*parse_format(format), r.out);
    ASSERT_EQ(rows.size(), 1u) << format;
    EXPECT_EQ(rows[0].batch, 2);
    EXPECT_EQ(rows[0].seq_len, 16);
    EXPECT_EQ(rows[0].samples_ms.size(), 3u);
    EXPECT_EQ(rows[0].run_id, 0);  // --no-db: not stored
  }
  EXPECT_FALSE(path_exists(dir.file("unused.db")));
}

TEST(Run, MarkdownShowsTheContextBeforeTheTable) {
  TempDir dir;
  const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-b", "1", "-s", "16",
                          "-n", "1", "--db", dir.file("r.db")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto context_at = r.out.find("LibTorch");
  const auto table_at = r.out.find("| bert-base-infer");
  ASSERT_NE(context_at, std::string::npos) << r.out;
  ASSERT_NE(table_at, std::string::npos) << r.out;
  EXPECT_LT(context_at, table_at);
}

TEST(Run, TheDefaultTableFits120ColumnsAndWideShowsEveryColumn) {
  TempDir dir;
  const std::vector<std::string> args = {"run", "-w", "nanogpt-shakespeare-char,llama2-7b-generate", "-d", "cpu",
                                         "--sizes", "tiny", "-n", "2", "--no-db"};
  const auto narrow = run_cli(args, {{"MLSPEED_DB", dir.file("unused.db")}});
  ASSERT_EQ(narrow.exit_code, 0) << narrow.err;
  const auto table_at = narrow.out.find("| workload");
  ASSERT_NE(table_at, std::string::npos) << narrow.out;
  std::istringstream lines(narrow.out.substr(table_at));
  int rows = 0;
  for (std::string line; std::getline(lines, line) && !line.empty(); ++rows) {
    const auto width = std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) != 0x80; });
    EXPECT_LE(width, 120) << line;
  }
  EXPECT_EQ(rows, 2 + 3) << narrow.out;  // header, rule, nanoGPT, llama pp and tg
  // Column titles are padded to the widest value, which depends on the samples: titles unpadded.
  for (const char* part : {"| test ", "median ms ± sd", "| noise ", "| tiny b4 s32 ", "| tiny pp16 ",
                           "| tiny tg8 ", "n=2", "--wide adds: "})
    EXPECT_NE(narrow.out.find(part), std::string::npos) << part << " not in:\n" << narrow.out;

  const auto wide = run_cli(with(args, {"--wide"}), {{"MLSPEED_DB", dir.file("unused.db")}});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  for (const char* part : {"| batch |", "| seq |", " TFLOP/s |", " peak memory |", "| noise "})
    EXPECT_NE(wide.out.find(part), std::string::npos) << part << " not in:\n" << wide.out;
  EXPECT_EQ(wide.out.find("--wide adds"), std::string::npos) << wide.out;
}

TEST(Run, DefaultDatabaseComesFromTheEnvironment) {
  TempDir dir;
  const std::string db = dir.file("sub/dir/results.db");
  const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-b", "1", "-s", "16",
                          "-n", "1", "-o", "csv"},
                         {{"MLSPEED_DB", db}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_rows(db), 1);
}

TEST(Run, AConfigurationThatCannotFitIsRefusedBeforeAllocatingAndTheSweepGoesOn) {
  TempDir dir;
  // 2^24 sequences of 16 tokens, the largest batch accepted: 128 GiB of activations, more than a
  // test machine has; the estimate says so up front.
  const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16", "-b",
                          "16777216,2", "-n", "1", "-o", "jsonl", "--db", dir.file("r.db")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, Status::too_large) << rows[0].message;
  EXPECT_NE(rows[0].message.find("needs at least"), std::string::npos) << rows[0].message;
  EXPECT_NE(rows[0].message.find("free"), std::string::npos) << rows[0].message;
  EXPECT_FALSE(rows[0].peak_memory_bytes.has_value());
  EXPECT_EQ(rows[1].status, Status::ok);
  EXPECT_EQ(count_rows(dir.file("r.db")), 2);
}

TEST(Run, ADtypeTheDeviceCannotRunIsAnUnsupportedRowWithTheReason) {
  TempDir dir;
  const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-b", "1", "-s", "16",
                          "-t", "tf32,fp32", "-n", "1", "-o", "jsonl", "--db", dir.file("r.db")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].status, Status::unsupported);
  EXPECT_NE(rows[0].message.find("tensor-core"), std::string::npos) << rows[0].message;
  EXPECT_EQ(rows[1].status, Status::ok);
}

TEST(Run, TrainingInBf16UsesAutocastOnTheCpu) {
  TempDir dir;
  const auto r = run_cli({"run", "-w", "nanogpt-shakespeare-char", "-d", "cpu", "--sizes", "tiny", "-t", "bf16",
                          "-n", "2", "-o", "jsonl", "--no-db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok) << rows[0].message;
  EXPECT_TRUE(rows[0].autocast);
  EXPECT_EQ(rows[0].precision, Precision::bf16);
}

TEST(Run, ThreadsCanBeSetAndAreRecordedInEveryRow) {
  const std::vector<std::string> args = {"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-b", "1",
                                         "-s", "16", "-n", "1", "-o", "jsonl", "--no-db"};
  for (const char* threads : {"1", "3"}) {
    const auto r = run_cli(with(args, {"--threads", threads}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(parse_results(Format::jsonl, r.out).at(0).host.torch_threads, std::stoi(threads));
  }
}

TEST(Run, ProfileWritesATraceAndATablePerConfigurationAndKeepsTheTimedRows) {
  TempDir dir;
  const std::string folder = dir.file("profiles/nested");
  const auto r = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-b", "1,2", "-s", "16",
                          "-n", "2", "-o", "jsonl", "--no-db", "--profile", folder});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) EXPECT_EQ(row.samples_ms.size(), 2u) << "profiling adds no timed samples";
  for (const char* stem : {"bert-base-infer-tiny-cpu-fp32-b1-s16", "bert-base-infer-tiny-cpu-fp32-b2-s16"}) {
    const auto trace = read_whole_file(folder + "/" + stem + ".trace.json");
    ASSERT_TRUE(trace) << stem;
    EXPECT_NE(trace->find("\"aten::addmm\""), std::string::npos);
    EXPECT_NE(trace->find("\"steps\":5"), std::string::npos);
    const auto csv = read_whole_file(folder + "/" + stem + ".ops.csv");
    ASSERT_TRUE(csv) << stem;
    EXPECT_EQ(csv->rfind("name,where,calls_per_step,us_per_step,share\n", 0), 0u);
    EXPECT_NE(csv->find("aten::addmm,host,"), std::string::npos) << *csv;
  }
  EXPECT_NE(r.err.find("profile of bert-base-infer tiny cpu fp32 b=2 s=16 (5 steps, " + folder), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("host ops "), std::string::npos);
}

TEST(Run, CtrlCKeepsTheCompletedRowsAndSaysHowMany) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  testing::Child child({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16", "-b",
                        "1,2,3,4,5,6,7,8", "--min-time", "0.5", "-o", "jsonl", "--db", db});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_rows(db) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(count_rows(db), 1) << "no row was stored within a minute";
  child.signal(SIGINT);
  const auto r = child.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  const auto printed = parse_results(Format::jsonl, r.out);
  ASSERT_GE(printed.size(), 1u);
  ASSERT_LT(printed.size(), 8u);
  EXPECT_EQ(count_rows(db), static_cast<int64_t>(printed.size()));
  const std::string kept = std::to_string(printed.size()) + (printed.size() == 1 ? " result" : " results");
  EXPECT_NE(r.err.find("interrupted after " + std::to_string(printed.size()) + " of 8 configurations; kept " + kept +
                       " in " + db),
            std::string::npos)
      << r.err;
  const auto shown = run_cli({"show", "--db", db, "-o", "jsonl"});
  ASSERT_EQ(shown.exit_code, 0);
  expect_same_rows(printed, parse_results(Format::jsonl, shown.out));
  EXPECT_NE(shown.err.find("interrupted"), std::string::npos) << shown.err;
}

// SIGTERM (`kill`, a scheduler's time limit) stops a run as cleanly as Ctrl-C; SIGKILL cannot be
// handled, so the next mlspeed to open the database marks the run its dead process left running.
TEST(Run, SigtermStopsCleanlyAndAKilledRunIsMarkedInterruptedOnTheNextOpen) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  const std::vector<std::string> slow = {"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16",
                                         "-b", "1,2,3,4,5,6,7,8", "--min-time", "0.5", "-o", "jsonl", "--db", db};
  const auto wait_for_a_row = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const int64_t before = count_rows(db) < 0 ? 0 : count_rows(db);
    while (count_rows(db) <= before && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  {
    testing::Child child(slow);
    wait_for_a_row();
    child.signal(SIGTERM);
    const auto r = child.wait();
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_NE(r.err.find("interrupted after"), std::string::npos) << r.err;
  }
  {
    testing::Child child(slow);
    wait_for_a_row();
    child.signal(SIGKILL);
    child.wait();
  }
  EXPECT_NE(run_cli({"show", "2", "--db", db}).err.find("run 2 (running"), std::string::npos)
      << "a read-only look changes nothing";
  const auto next = run_cli({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16", "-b", "1",
                             "-n", "1", "-o", "jsonl", "--db", db});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(run_cli({"show", "1", "--db", db}).err.find("run 1 (interrupted"), std::string::npos);
  const auto killed = run_cli({"show", "2", "--db", db});
  EXPECT_NE(killed.err.find("run 2 (interrupted"), std::string::npos) << killed.err;
  EXPECT_NE(run_cli({"show", "3", "--db", db}).err.find("run 3 (complete"), std::string::npos);
}

// Another program holds the database's write lock for longer than the busy timeout (5 s) in the
// middle of a run: the rows measured meanwhile are kept, retried, and every one is stored.
TEST(Run, ADatabaseLockedMidRunLosesNoRow) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  testing::Child child({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16", "-b",
                        "1,2,3,4,5,6,7,8", "--min-time", "0.3", "-o", "jsonl", "--db", db});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_rows(db) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(count_rows(db), 1);
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &lock), SQLITE_OK);
  sqlite3_busy_timeout(lock, 10000);
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  // 12 s: longer than the busy timeout after the next row, however slowly a loaded machine makes it.
  std::this_thread::sleep_for(std::chrono::seconds(12));
  sqlite3_exec(lock, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(lock);
  const auto r = child.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_results(Format::jsonl, r.out).size(), 8u);
  EXPECT_EQ(count_rows(db), 8) << r.err;
  EXPECT_NE(r.err.find("every row was stored on a retry"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stored run 1 (8 results)"), std::string::npos) << r.err;
}

TEST(Run, JsonStaysWellFormedWhenInterrupted) {
  TempDir dir;
  const std::string db = dir.file("r.db");
  testing::Child child({"run", "-w", "bert-base-infer", "-d", "cpu", "--sizes", "tiny", "-s", "16", "-b",
                        "1,2,3,4,5,6", "--min-time", "0.5", "-o", "json", "--db", db});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_rows(db) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  child.signal(SIGINT);
  const auto r = child.wait();
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_NO_THROW(parse_results(Format::json, r.out)) << r.out;
}

}  // namespace
}  // namespace mlspeed
