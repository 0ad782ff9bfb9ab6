// Nothing lost at the edges of the output: what `report`/`export --output` write goes where the
// path leads (a symlink's target, a named pipe, a device) and replaces nothing it should not; a
// standard output that fails (a full disk, /dev/full, a reader that went away) is an error, never
// exit 0 with half a file; and a run whose output fails keeps its rows and records how it ended.
// The runs are one tiny configuration; the rest reads a hand-made run file.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mlspeed/compare/run_file.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::contains;
using testing::read_file;
using testing::run_cli;
using testing::run_cli_to;
using testing::TempDir;

constexpr const char* kFull = "cannot write to standard output: No space left on device";

// A run file as `mlspeed export` writes it, made here: no program run needed to read one.
std::string write_sample_run_file(const TempDir& dir) {
  LoadedRun run;
  run.name = "run 3";
  run.run.id = 3;
  run.run.started_at = "2026-11-23T10:00:00Z";
  run.run.finished_at = "2026-11-23T10:05:00Z";
  run.run.status = "complete";
  run.run.command = "mlspeed run --sizes tiny";
  run.run.kind = "run";
  run.run.context = testing::sample_context();
  run.rows<Result>() = {testing::full_row()};
  const std::string path = dir.file("run.json");
  testing::write_file(path, write_run_file(run));
  return path;
}

mode_t type_of_path(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 ? (st.st_mode & S_IFMT) : 0;
}

bool full_device_available() { return type_of_path("/dev/full") == S_IFCHR; }

size_t count_output_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The tiny run of these tests, storing into `db`, two rows planned.
std::vector<std::string> tiny_two_configuration_run(const std::string& db) {
  return {"run", "--sizes", "tiny", "-w", "bert-base-infer", "-d", "cpu", "-b", "1", "-s", "16", "-n", "1",
          "--warmup", "0", "-r", "2", "-o", "jsonl", "--db", db};
}

// The only run in `db`, as `history -o json` lists it.
nlohmann::json the_only_stored_run(const std::string& db) {
  const auto listed = run_cli({"history", "--db", db, "-o", "json"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  const auto runs = nlohmann::json::parse(listed.out, nullptr, false);
  if (!runs.is_array() || runs.size() != 1) {
    ADD_FAILURE() << "expected one run in " << db << ": " << listed.out;
    return nlohmann::json::object();
  }
  return runs[0];
}

TEST(OutputSafety, OutputThroughASymlinkGoesToItsTargetAndAReadOnlyFileIsRefused) {
  TempDir dir;
  const std::string run_file = write_sample_run_file(dir);
  const std::string target = dir.file("real.json"), link = dir.file("link.json");
  testing::write_file(target, "old");
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  const auto through = run_cli({"export", run_file, "--output", link});
  ASSERT_EQ(through.exit_code, 0) << through.err;
  EXPECT_EQ(type_of_path(link), S_IFLNK) << "the symlink was replaced";
  EXPECT_TRUE(contains(read_file(target), "\"mlspeed_run_file\"")) << read_file(target);

  // /dev/stdout is such a link (to /proc/self/fd/1): the text must come out on standard output.
  const std::string to_stdout = dir.file("stdout");
  ASSERT_EQ(symlink("/proc/self/fd/1", to_stdout.c_str()), 0);
  const auto piped = run_cli({"export", run_file, "--output", to_stdout});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_TRUE(contains(piped.out, "\"mlspeed_run_file\"")) << piped.out;
  EXPECT_EQ(type_of_path(to_stdout), S_IFLNK);

  const std::string read_only = dir.file("summary.md");
  testing::write_file(read_only, "keep");
  ASSERT_EQ(chmod(read_only.c_str(), 0444), 0);
  const auto refused = run_cli({"report", run_file, "--output", read_only, "--db", dir.file("none.db")});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(contains(refused.err, "read-only")) << refused.err;
  EXPECT_EQ(count_output_lines(refused.err), 1u) << refused.err;
  EXPECT_EQ(read_file(read_only), "keep");
}

TEST(OutputSafety, ANamedPipeIsWrittenInPlace) {
  TempDir dir;
  const std::string run_file = write_sample_run_file(dir);
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  // A reader is there first (opening it does not wait for a writer), and the file fits the pipe's
  // buffer: the export finishes before anything is read.
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  const auto written = run_cli({"export", run_file, "--output", fifo});
  std::string received;
  char buffer[4096];
  for (ssize_t n; (n = read(reader, buffer, sizeof buffer)) > 0;) received.append(buffer, static_cast<size_t>(n));
  close(reader);
  EXPECT_EQ(written.exit_code, 0) << written.err;
  EXPECT_EQ(type_of_path(fifo), S_IFIFO) << "the named pipe was replaced";
  EXPECT_TRUE(contains(received, "\"mlspeed_run_file\"")) << received;
}

// A device node is written in place, and its write error is reported. The node is made here
// (the major and minor numbers of /dev/full), so that the test never touches /dev.
TEST(OutputSafety, ADeviceIsWrittenInPlaceAndItsWriteErrorReported) {
  TempDir dir;
  const std::string run_file = write_sample_run_file(dir);
  const std::string full = dir.file("full");
  if (mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) GTEST_SKIP() << "cannot make a device node here";
  const auto r = run_cli({"export", run_file, "--output", full});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "No space left on device")) << r.err;
  EXPECT_EQ(count_output_lines(r.err), 1u) << r.err;
  EXPECT_EQ(type_of_path(full), S_IFCHR) << "the device node was replaced";
}

TEST(OutputSafety, AFullStandardOutputIsAnErrorForExportShowAndCompare) {
  if (!full_device_available()) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string run_file = write_sample_run_file(dir);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"export", run_file},
                                                {"show", run_file, "-o", "json"},
                                                {"compare", run_file, run_file}}) {
    const auto r = run_cli_to("/dev/full", args);
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.err;
    EXPECT_TRUE(contains(r.err, std::string("mlspeed: ") + kFull + "\n")) << args[0] << ": " << r.err;
  }
}

TEST(OutputSafety, AFullStandardOutputIsAnErrorForHistory) {
  if (!full_device_available()) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string db = dir.file("results.db");
  ASSERT_EQ(run_cli({"import", write_sample_run_file(dir), "--db", db}).exit_code, 0);
  const auto r = run_cli_to("/dev/full", {"history", "--db", db});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, std::string("mlspeed: ") + kFull + "\n");
}

TEST(OutputSafety, ARunWhoseOutputIsFullKeepsItsRowsAndSaysSo) {
  if (!full_device_available()) GTEST_SKIP() << "no /dev/full";
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto r = run_cli_to("/dev/full", tiny_two_configuration_run(db));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "mlspeed run: cannot write to standard output (No space left on device): stopped after "
                              "1 of 2 configurations; kept 1 ")) << r.err;
  EXPECT_TRUE(contains(r.err, " in " + db + " (run 1)\n")) << r.err;
  EXPECT_FALSE(contains(r.err, "mlspeed: cannot write")) << "said twice: " << r.err;
  const auto run = the_only_stored_run(db);
  EXPECT_EQ(run.value("status", ""), "interrupted");
  EXPECT_EQ(run.value("rows", -1), 1);
}

// `mlspeed run -o jsonl | head -1`: the reader goes away; the run ends as an interrupted one, with
// its rows, one line and exit status 1, rather than dying of SIGPIPE and staying `running`.
TEST(OutputSafety, AReaderThatClosesThePipeEndsTheRunAsInterrupted) {
  TempDir dir;
  const std::string db = dir.file("results.db");
  testing::Child child(tiny_two_configuration_run(db));
  child.close_stdout();
  const auto r = child.wait();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "mlspeed run: cannot write to standard output (Broken pipe): stopped after 1 of 2 "
                              "configurations; kept 1 ")) << r.err;
  EXPECT_TRUE(contains(r.err, " in " + db + " (run 1)\n")) << r.err;
  const auto run = the_only_stored_run(db);
  EXPECT_EQ(run.value("status", ""), "interrupted");
  EXPECT_EQ(run.value("rows", -1), 1);
}

}  // namespace
}  // namespace mlspeed
