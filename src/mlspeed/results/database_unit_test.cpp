#include "mlspeed/results/database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <cstdlib>
#include <optional>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/row_table.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using ::mlspeed::testing::raw_sql;

using testing::expect_same_context;
using testing::expect_same_fields;
using testing::failed_row;
using testing::full_row;
using testing::read_file;
using testing::sample_context;
using testing::TempDir;
using testing::write_file;

std::set<std::string> result_columns(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA table_info(results)", -1, &s, nullptr), SQLITE_OK);
  std::set<std::string> names;
  while (sqlite3_step(s) == SQLITE_ROW) names.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return names;
}

// The one number a query gives (a count).
int64_t query_number(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
  const int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

// A stored run with the two test rows; returns the run id.
int64_t store_sample_run(const std::string& path) {
  Database db(path);
  const int64_t run = begin_run<Result>(db, sample_context());
  Result a = full_row(), b = failed_row();
  store_row(db, run, a);
  store_row(db, run, b);
  return run;
}

using ::mlspeed::testing::contains;

// Opening must fail with a UsageError that names the path, says `what`, tells the user what to
// do, and leaves the file exactly as it was.
void expect_refused(const std::string& path, const std::string& what) {
  const std::optional<std::string> before =
      access(path.c_str(), F_OK) == 0 ? std::optional(read_file(path)) : std::nullopt;
  try {
    Database db(path);
    ADD_FAILURE() << path << " was opened; expected it refused as '" << what << "'";
  } catch (const UsageError& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "'" + path + "'")) << message;
    EXPECT_TRUE(contains(message, what)) << message;
    EXPECT_TRUE(contains(message, "pass --db with another path")) << message;
  }
  if (before) EXPECT_EQ(read_file(path), *before) << "the refused file was modified";
}

TEST(Database, StoresARunAndReadsItBackEqual) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const int64_t run_id = store_sample_run(path);

  Database db(path);  // a fresh connection: nothing comes from memory
  const auto run = db.run(run_id);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->id, run_id);
  EXPECT_EQ(run->status, "running");
  EXPECT_EQ(run->started_at, sample_context().started_at);
  EXPECT_EQ(run->command, sample_context().command);
  EXPECT_EQ(run->row_count, 2);
  expect_same_context(sample_context(), run->context);

  const auto rows = load_rows<Result>(db, run_id);
  ASSERT_EQ(rows.size(), 2u);
  Result a = full_row(), b = failed_row();
  a.run_id = b.run_id = run_id;
  expect_same_fields(a, rows[0], "first row");
  expect_same_fields(b, rows[1], "second row");
  EXPECT_FALSE(db.run(run_id + 100));
  EXPECT_TRUE(load_rows<Result>(db, run_id + 100).empty());
}

TEST(Database, AddResultSetsTheRunIdAndRejectsUnknownRuns) {
  TempDir dir;
  Database db(dir.file("results.db"));
  const int64_t run = begin_run<Result>(db, sample_context());
  Result row = full_row();
  store_row(db, run, row);
  EXPECT_EQ(row.run_id, run);
  Result orphan = full_row();
  EXPECT_THROW(store_row(db, run + 1, orphan), std::runtime_error);
}

TEST(Database, RunsAreListedNewestFirstWithTheirCounts) {
  TempDir dir;
  Database db(dir.file("results.db"));
  std::vector<int64_t> ids;
  for (int rows : {2, 0, 1}) {
    ids.push_back(begin_run<Result>(db, sample_context()));
    for (int i = 0; i < rows; ++i) {
      Result r = full_row();
      store_row(db, ids.back(), r);
    }
  }
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, ids[2]);
  EXPECT_EQ(runs[1].id, ids[1]);
  EXPECT_EQ(runs[2].id, ids[0]);
  EXPECT_EQ(runs[0].row_count, 1);
  EXPECT_EQ(runs[1].row_count, 0);
  EXPECT_EQ(runs[2].row_count, 2);
  EXPECT_EQ(runs[0].context.host.hostname, "bench-01");
}

// A run whose context another program damaged is listed like the others, not in their way.
TEST(Database, ARunWithAnUnreadableContextDoesNotHideTheOthers) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  {
    Database db(path);
    begin_run<Result>(db, sample_context());
    begin_run<Result>(db, sample_context());
  }
  raw_sql(path, "UPDATE runs SET context_json = '{\"host\": ' WHERE id = 1");
  const Database db(path, Database::Access::read_only);
  std::vector<StoredRun> runs;
  ASSERT_NO_THROW(runs = db.runs());
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].context.host.hostname, "bench-01");
  ASSERT_NO_THROW(db.run(1));
  EXPECT_EQ(db.run(1)->id, 1);
}

TEST(Database, FinishRunRecordsStatusAndTime) {
  TempDir dir;
  Database db(dir.file("results.db"));
  const int64_t run = begin_run<Result>(db, sample_context());
  EXPECT_EQ(db.run(run)->finished_at, "");
  db.finish_run(run, "complete");
  EXPECT_EQ(db.run(run)->status, "complete");
  EXPECT_FALSE(db.run(run)->finished_at.empty());
  EXPECT_THROW(db.finish_run(run + 1, "complete"), std::invalid_argument);
}

// The process dies (SIGKILL: no destructor, no cleanup) after two rows: both rows stay, and the
// next open for writing finds the run's process gone and marks the run "interrupted".
TEST(Database, RowsOfAKilledRunSurvive) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  { Database create(path); }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      Database db(path);
      const int64_t run = begin_run<Result>(db, sample_context());
      Result a = full_row(), b = failed_row();
      store_row(db, run, a);
      store_row(db, run, b);
      raise(SIGKILL);
    } catch (...) {
    }
    _exit(2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child did not get to the kill";

  Database db(path);
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, "interrupted");
  EXPECT_FALSE(runs[0].finished_at.empty());
  EXPECT_EQ(runs[0].row_count, 2);
  const auto rows = load_rows<Result>(db, runs[0].id);
  ASSERT_EQ(rows.size(), 2u);
  Result b = failed_row();
  b.run_id = runs[0].id;
  expect_same_fields(b, rows[1], "second row");
}

TEST(Database, CreatesMissingFoldersAndMarksTheFileAsOurs) {
  TempDir dir;
  const std::string path = dir.file("a/b/results.db");
  { Database db(path); }
  EXPECT_EQ(read_file(path).substr(0, 16), std::string("SQLite format 3\0", 16));
  const std::string file = read_file(path);
  EXPECT_EQ(file.substr(60, 4), std::string("\0\0\0\1", 4));  // user_version, big-endian
  EXPECT_EQ(file.substr(68, 4), "MLSP");                         // application_id
}

TEST(Database, AnEmptyFileBecomesADatabase) {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  write_file(path, "");
  Database db(path);
  EXPECT_TRUE(db.runs().empty());
}

TEST(Database, AddsColumnsMissingFromOlderFiles) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t run = store_sample_run(path);
  // What a file from before these fields existed looks like.
  raw_sql(path, "ALTER TABLE results DROP COLUMN mfu; ALTER TABLE results DROP COLUMN cudnn_benchmark;");
  ASSERT_FALSE(result_columns(path).count("mfu"));

  Database db(path);
  const auto rows = load_rows<Result>(db, run);
  ASSERT_EQ(rows.size(), 2u);
  Result expected = full_row();
  expected.run_id = run;
  expected.mfu.reset();                // unknown in the old file
  expected.cudnn_benchmark = false;  // the default
  expect_same_fields(expected, rows[0], "old row");
  Result added = full_row();
  store_row(db, run, added);  // the first write adds the columns, and new rows fill them
  const auto columns = result_columns(path);
  for (const Field& f : result_fields()) EXPECT_TRUE(columns.count(f.name)) << f.name;
  expect_same_fields(added, load_rows<Result>(db, run).back(), "new row");
}

// Rows stored before rows had a weight format read it as the job's own storage of their dtype,
// and opening the file for writing fills the new column so (results/database_schema.cpp).
TEST(Database, RowsFromBeforeWeightFormatsGetTheirDtypesStorage) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t run = store_sample_run(path);
  raw_sql(path, "ALTER TABLE results DROP COLUMN weight_format; UPDATE results SET job = 'infer', dtype = 'fp16';");
  {
    const Database read_only(path, Database::Access::read_only);
    const auto rows = load_rows<Result>(read_only, run);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_FALSE(rows[0].weight_format);
    EXPECT_EQ(stored_weights(rows[0]), ModelFormat::f16);  // read by the rule, the file untouched
  }
  Database db(path);
  Result added = full_row();
  store_row(db, run, added);  // the first write adds the column and fills the old rows
  const auto rows = load_rows<Result>(db, run);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].weight_format, ModelFormat::f16);
  EXPECT_EQ(rows[1].weight_format, ModelFormat::f16);
  EXPECT_EQ(rows[2].weight_format, added.weight_format);
}

// Rows stored before `run --kernels` ran mlspeed's kernels, the only ones there were: they read so,
// and the first write fills the new column so.
TEST(Database, RowsFromBeforeTheKernelChoiceRanMlspeeds) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t run = store_sample_run(path);
  raw_sql(path, "ALTER TABLE results DROP COLUMN kernels;");
  {
    const Database read_only(path, Database::Access::read_only);
    const auto rows = load_rows<Result>(read_only, run);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].kernels, KernelSet::mlspeed);
  }
  Database db(path);
  Result added = full_row();
  ASSERT_EQ(added.kernels, KernelSet::libtorch);
  store_row(db, run, added);
  const auto rows = load_rows<Result>(db, run);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].kernels, KernelSet::mlspeed);
  EXPECT_EQ(rows[2].kernels, KernelSet::libtorch);
  EXPECT_EQ(query_number(path, "SELECT count(*) FROM results WHERE kernels = 'mlspeed'"), 2) << "filled in";
}

TEST(Database, ReadOnlyLeavesTheFileByteForByteAndReadsOldFilesWithoutMigrating) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t run = store_sample_run(path);
  raw_sql(path, "ALTER TABLE results DROP COLUMN mfu;");
  const std::string before = read_file(path);

  const Database db(path, Database::Access::read_only);
  ASSERT_EQ(db.runs().size(), 1u);
  const auto rows = load_rows<Result>(db, run);
  ASSERT_EQ(rows.size(), 2u);
  Result expected = full_row();
  expected.run_id = run;
  expected.mfu.reset();  // the column is missing: unknown
  expect_same_fields(expected, rows[0], "old row");
  EXPECT_FALSE(result_columns(path).count("mfu")) << "read-only must not migrate";
  EXPECT_EQ(read_file(path), before);
}

TEST(Database, ReadOnlyRefusesWritesAndMissingFiles) {
  TempDir dir;
  const std::string path = dir.file("r.db");
  store_sample_run(path);
  Database db(path, Database::Access::read_only);
  EXPECT_ANY_THROW(begin_run<Result>(db, RunContext{}));
  try {
    Database missing(dir.file("none.db"), Database::Access::read_only);
    FAIL() << "opened a file that does not exist";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(path_exists(dir.file("none.db")));
}

TEST(Database, RefusesAFileThatIsNotSqlite) {
  TempDir dir;
  const std::string path = dir.file("notes.csv");
  write_file(path, "name,value\nspeed,12\n");
  expect_refused(path, "is not an SQLite database");
}

TEST(Database, RefusesADamagedFile) {
  TempDir dir;
  const std::string path = dir.file("damaged.db");
  store_sample_run(path);
  std::string bytes = read_file(path);
  const size_t page = 4096;
  ASSERT_GT(bytes.size(), 2 * page);
  for (size_t i = page; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0xA5 ^ (i * 7));
  write_file(path, bytes);
  expect_refused(path, "is damaged");
}

TEST(Database, RefusesAnotherProgramsDatabase) {
  TempDir dir;
  const std::string with_tables = dir.file("browser.sqlite");
  raw_sql(with_tables, "CREATE TABLE bookmarks (url TEXT); INSERT INTO bookmarks VALUES ('https://example.org');");
  expect_refused(with_tables, "belongs to another program");

  const std::string marked = dir.file("marked.sqlite");
  raw_sql(marked, "PRAGMA application_id = 1234;");
  expect_refused(marked, "belongs to another program");
}

TEST(Database, RefusesAFileFromANewerMlspeed) {
  TempDir dir;
  const std::string path = dir.file("newer.db");
  store_sample_run(path);
  raw_sql(path, "PRAGMA user_version = 2;");
  expect_refused(path, "newer mlspeed");
}

TEST(Database, RefusesAPathThatCannotBeCreated) {
  TempDir dir;
  const std::string plain = dir.file("plain.txt");
  write_file(plain, "a regular file, not a folder\n");
  expect_refused(plain + "/sub/results.db", "cannot be created");
  EXPECT_EQ(read_file(plain), "a regular file, not a folder\n");
  expect_refused(dir.path(), "is a folder");
}

TEST(Database, RefusesAReadOnlyFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write a read-only file";
  TempDir dir;
  const std::string path = dir.file("readonly.db");
  store_sample_run(path);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  expect_refused(path, "read-only");
}

// SQLite writes its journal beside the file: a folder that cannot be written must be found at
// open, not when the first row is stored.
TEST(Database, RefusesAFileInAReadOnlyFolder) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write into a read-only folder";
  TempDir dir;
  const std::string folder = dir.file("locked");
  const std::string path = folder + "/results.db";
  store_sample_run(path);
  ASSERT_EQ(chmod(folder.c_str(), 0555), 0);
  expect_refused(path, "cannot be written");
  chmod(folder.c_str(), 0755);  // so TempDir can remove it
}

// Another process creates the file between this open's check (no file) and its own creation of
// it: what was made meanwhile is someone else's, checked as any existing file and never removed.
class RaceForTheFile {
 public:
  explicit RaceForTheFile(std::function<void(const std::string&)> other_process) {
    set_database_missing_hook_for_testing(std::move(other_process));
  }
  ~RaceForTheFile() { set_database_missing_hook_for_testing(nullptr); }
};

TEST(Database, AFileAnotherProcessCreatesAfterTheCheckIsNeverRemoved) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  {
    RaceForTheFile race([](const std::string& p) { write_file(p, "another program's notes\n"); });
    expect_refused(path, "is not an SQLite database");
  }
  EXPECT_EQ(read_file(path), "another program's notes\n");
}

TEST(Database, ADatabaseAnotherProgramCreatesAfterTheCheckIsLeftAlone) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  {
    RaceForTheFile race([](const std::string& p) { raw_sql(p, "CREATE TABLE bookmarks (url TEXT);"); });
    expect_refused(path, "belongs to another program");
  }
  EXPECT_EQ(testing::count_table_rows(path, "runs"), -1) << "mlspeed's tables were added to another program's file";
  EXPECT_EQ(testing::count_table_rows(path, "bookmarks"), 0);
}

// Sets an environment variable for one scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Database, DefaultPathFollowsTheEnvironment) {
  ScopedEnv home("HOME", "/home/ada");
  {
    ScopedEnv db("MLSPEED_DB", "/data/mine.db");
    ScopedEnv xdg("XDG_DATA_HOME", "/xdg");
    EXPECT_EQ(Database::default_path(), "/data/mine.db");
  }
  ScopedEnv db("MLSPEED_DB", nullptr);
#ifdef __APPLE__
  EXPECT_EQ(Database::default_path(), "/home/ada/Library/Application Support/mlspeed/results.db");
#else
  {
    ScopedEnv xdg("XDG_DATA_HOME", "/xdg");
    EXPECT_EQ(Database::default_path(), "/xdg/mlspeed/results.db");
  }
  ScopedEnv xdg("XDG_DATA_HOME", nullptr);
  EXPECT_EQ(Database::default_path(), "/home/ada/.local/share/mlspeed/results.db");
#endif
}

// Files from before runs had a kind: the kind comes from the command line, read-only without
// changing the file, and is written into it when opened for writing.
TEST(Database, RunsStoredBeforeRunsHadAKindGetOneFromTheirCommand) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  {
    Database db(path);
    RunContext verify = sample_context();
    verify.command = "mlspeed verify -d cpu";
    begin_run<Result>(db, sample_context());
    db.begin_run(verify, "verify", "checks");
  }
  raw_sql(path, "ALTER TABLE runs DROP COLUMN kind; ALTER TABLE runs DROP COLUMN row_table;");
  {
    const std::string before = read_file(path);
    const Database db(path, Database::Access::read_only);
    const auto runs = db.runs();
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].kind, "verify");
    EXPECT_EQ(runs[1].kind, "run");
    EXPECT_EQ(read_file(path), before) << "read-only must not migrate";
  }
  Database db(path);
  EXPECT_EQ(db.runs()[0].kind, "verify");
  EXPECT_EQ(db.runs()[1].kind, "run");
}

}  // namespace
}  // namespace mlspeed
