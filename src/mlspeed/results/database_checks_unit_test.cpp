// The checks table: verification rows stored next to the speed results of the same machine.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "mlspeed/results/database.h"
#include "testing/check_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::check_row;
using testing::expect_same_check;
using testing::full_check;
using testing::full_row;
using testing::read_file;
using testing::sample_context;
using testing::TempDir;
using verify::CheckResult;
using verify::Outcome;

// Runs SQL on a file directly, as an older mlspeed would have left it.
void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "") << " in: " << sql;
  sqlite3_free(error);
  sqlite3_close(db);
}

std::set<std::string> check_columns(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA table_info(checks)", -1, &s, nullptr), SQLITE_OK);
  std::set<std::string> names;
  while (sqlite3_step(s) == SQLITE_ROW) names.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return names;
}

RunContext verify_context() {
  RunContext c = sample_context();
  c.command = "mlspeed verify -d cuda:1";
  return c;
}

// A speed run with one result, then a verify run with two checks; returns the verify run's id.
int64_t store_both_kinds(const std::string& path) {
  Database db(path);
  const int64_t speed = db.begin_run(sample_context());
  Result r = full_row();
  db.add_result(speed, r);
  db.finish_run(speed, "complete");
  const int64_t verify = db.begin_run(verify_context());
  CheckResult a = full_check(), b = check_row("cuda:1", "softmax", Outcome::skipped, "not enough memory");
  db.add_check(verify, a);
  db.add_check(verify, b);
  db.finish_run(verify, "complete");
  return verify;
}

TEST(DatabaseChecks, StoresChecksNextToResultsAndReadsThemBackEqual) {
  TempDir dir;
  const std::string path = dir.file("results.db");
  const int64_t run_id = store_both_kinds(path);

  const Database db(path);
  const auto runs = db.runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, run_id);
  EXPECT_EQ(runs[0].command, "mlspeed verify -d cuda:1");
  EXPECT_EQ(runs[0].check_count, 2);
  EXPECT_EQ(runs[0].result_count, 0);
  EXPECT_EQ(runs[1].check_count, 0);  // the speed run
  EXPECT_EQ(runs[1].result_count, 1);
  EXPECT_EQ(db.run(run_id)->check_count, 2);

  const auto checks = db.checks(run_id);
  ASSERT_EQ(checks.size(), 2u);
  CheckResult a = full_check(), b = check_row("cuda:1", "softmax", Outcome::skipped, "not enough memory");
  a.run_id = b.run_id = run_id;
  expect_same_check(a, checks[0], "first check");
  expect_same_check(b, checks[1], "second check");
  EXPECT_TRUE(db.results(run_id).empty());
  EXPECT_TRUE(db.checks(runs[1].id).empty());
}

TEST(DatabaseChecks, AddCheckSetsTheRunIdAndRejectsUnknownRuns) {
  TempDir dir;
  Database db(dir.file("results.db"));
  const int64_t run = db.begin_run(verify_context());
  CheckResult row = full_check();
  db.add_check(run, row);
  EXPECT_EQ(row.run_id, run);
  CheckResult orphan = full_check();
  EXPECT_THROW(db.add_check(run + 1, orphan), std::runtime_error);
}

TEST(DatabaseChecks, AnOldFileWithoutTheTableGetsItOnOpen) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t speed = [&] {
    Database db(path);
    const int64_t id = db.begin_run(sample_context());
    Result r = full_row();
    db.add_result(id, r);
    return id;
  }();
  raw_sql(path, "DROP TABLE checks");  // what a file from before `mlspeed verify` looks like
  ASSERT_TRUE(check_columns(path).empty());

  {  // Read-only: readable as it is, with no checks, and left untouched.
    const std::string before = read_file(path);
    const Database db(path, Database::Access::read_only);
    const auto runs = db.runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].check_count, 0);
    EXPECT_EQ(runs[0].result_count, 1);
    EXPECT_TRUE(db.checks(speed).empty());
    EXPECT_EQ(read_file(path), before);
  }

  Database db(path);
  const auto columns = check_columns(path);
  for (const verify::CheckField& f : verify::check_fields()) EXPECT_TRUE(columns.count(f.name)) << f.name;
  EXPECT_EQ(db.results(speed).size(), 1u);  // the speed results are kept
  const int64_t verify = db.begin_run(verify_context());
  CheckResult row = full_check();
  db.add_check(verify, row);
  expect_same_check(row, db.checks(verify).at(0), "check in a migrated file");
}

TEST(DatabaseChecks, AddsCheckColumnsMissingFromOlderFiles) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t run = store_both_kinds(path);
  raw_sql(path, "ALTER TABLE checks DROP COLUMN fault; ALTER TABLE checks DROP COLUMN max_rel_error;");

  {  // Read-only: the missing columns read as unknown / default.
    const Database db(path, Database::Access::read_only);
    CheckResult expected = full_check();
    expected.run_id = run;
    expected.fault.clear();
    expected.max_rel_error.reset();
    expect_same_check(expected, db.checks(run).at(0), "old check, read-only");
    EXPECT_FALSE(check_columns(path).count("fault")) << "read-only must not migrate";
  }

  Database db(path);
  EXPECT_TRUE(check_columns(path).count("fault"));
  EXPECT_TRUE(check_columns(path).count("max_rel_error"));
  CheckResult added = full_check();
  db.add_check(run, added);
  expect_same_check(added, db.checks(run).back(), "new check");
}

}  // namespace
}  // namespace mlspeed
