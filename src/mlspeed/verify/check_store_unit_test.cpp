// The checks table: verification rows stored, through the store's generic row tables, next to the
// speed results of the same machine.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"
#include "testing/check_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using ::mlspeed::testing::raw_sql;

using testing::check_row;
using testing::expect_same_check;
using testing::full_check;
using testing::full_row;
using testing::read_file;
using testing::sample_context;
using testing::TempDir;
using verify::CheckResult;
using verify::Outcome;

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
  const int64_t speed = begin_run<Result>(db, sample_context());
  Result r = full_row();
  store_row(db, speed, r);
  db.finish_run(speed, "complete");
  const int64_t verify = begin_run<verify::CheckResult>(db, verify_context());
  CheckResult a = full_check(), b = check_row("cuda:1", "softmax", Outcome::skipped, "not enough memory");
  store_row(db, verify, a);
  store_row(db, verify, b);
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
  EXPECT_EQ(runs[0].kind, "verify");
  EXPECT_EQ(runs[0].row_count, 2);
  EXPECT_EQ(runs[1].kind, "run");  // the speed run
  EXPECT_EQ(runs[1].row_count, 1);
  EXPECT_EQ(db.run(run_id)->row_count, 2);
  EXPECT_EQ(db.run(run_id)->kind, "verify");

  const auto checks = load_rows<verify::CheckResult>(db, run_id);
  ASSERT_EQ(checks.size(), 2u);
  CheckResult a = full_check(), b = check_row("cuda:1", "softmax", Outcome::skipped, "not enough memory");
  a.run_id = b.run_id = run_id;
  expect_same_check(a, checks[0], "first check");
  expect_same_check(b, checks[1], "second check");
  EXPECT_TRUE(load_rows<Result>(db, run_id).empty());
  EXPECT_TRUE(load_rows<verify::CheckResult>(db, runs[1].id).empty());
}

TEST(DatabaseChecks, AddCheckSetsTheRunIdAndRejectsUnknownRuns) {
  TempDir dir;
  Database db(dir.file("results.db"));
  const int64_t run = begin_run<verify::CheckResult>(db, verify_context());
  CheckResult row = full_check();
  store_row(db, run, row);
  EXPECT_EQ(row.run_id, run);
  CheckResult orphan = full_check();
  EXPECT_THROW(store_row(db, run + 1, orphan), std::runtime_error);
}

TEST(DatabaseChecks, AnOldFileWithoutTheTableGetsItAtTheFirstCheck) {
  TempDir dir;
  const std::string path = dir.file("old.db");
  const int64_t speed = [&] {
    Database db(path);
    const int64_t id = begin_run<Result>(db, sample_context());
    Result r = full_row();
    store_row(db, id, r);
    return id;
  }();
  ASSERT_TRUE(check_columns(path).empty());  // what a file from before `mlspeed verify` looks like

  {  // Read-only: readable as it is, with no checks, and left untouched.
    const std::string before = read_file(path);
    const Database db(path, Database::Access::read_only);
    const auto runs = db.runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].kind, "run");
    EXPECT_EQ(runs[0].row_count, 1);
    EXPECT_TRUE(load_rows<verify::CheckResult>(db, speed).empty());
    EXPECT_EQ(read_file(path), before);
  }

  Database db(path);
  EXPECT_EQ(load_rows<Result>(db, speed).size(), 1u);  // the speed results are kept
  const int64_t verify = begin_run<verify::CheckResult>(db, verify_context());
  CheckResult row = full_check();
  store_row(db, verify, row);
  const auto columns = check_columns(path);
  for (const verify::CheckField& f : verify::check_fields()) EXPECT_TRUE(columns.count(f.name)) << f.name;
  expect_same_check(row, load_rows<verify::CheckResult>(db, verify).at(0), "check in a migrated file");
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
    expect_same_check(expected, load_rows<verify::CheckResult>(db, run).at(0), "old check, read-only");
    EXPECT_FALSE(check_columns(path).count("fault")) << "read-only must not migrate";
  }

  Database db(path);
  CheckResult added = full_check();
  store_row(db, run, added);  // the first write to the table adds what it lacks
  EXPECT_TRUE(check_columns(path).count("fault"));
  EXPECT_TRUE(check_columns(path).count("max_rel_error"));
  expect_same_check(added, load_rows<verify::CheckResult>(db, run).back(), "new check");
}

}  // namespace
}  // namespace mlspeed
