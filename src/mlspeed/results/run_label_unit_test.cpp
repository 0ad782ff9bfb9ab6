// Labels on stored runs (`run --label`), and files written before runs had labels.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/row_table.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using ::mlspeed::testing::raw_sql;

TEST(RunLabel, StoredWithTheRunAndReadBack) {
  testing::TempDir dir;
  Database db(dir.file("r.db"));
  const int64_t labelled = begin_run<Result>(db, testing::sample_context(), "driver 580");
  const int64_t plain = begin_run<Result>(db, testing::sample_context());
  EXPECT_EQ(db.run(labelled)->label, "driver 580");
  EXPECT_EQ(db.run(plain)->label, "");
  const std::vector<StoredRun> runs = db.runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].label, "driver 580");  // newest first
}

// A file of the schema before labels: the runs table as an earlier mlspeed made it.
void write_old_file(const std::string& path) {
  raw_sql(path,
          "PRAGMA application_id = 1296847696; PRAGMA user_version = 1;"
          "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT "
          "NULL, command TEXT, context_json TEXT, pid INTEGER, host TEXT, kind TEXT, row_table TEXT);"
          "INSERT INTO runs (started_at, finished_at, status, command, kind, row_table) VALUES "
          "('2026-11-23T02:43:29Z', '2026-11-23T03:00:00Z', 'complete', 'mlspeed run', 'run', 'results');");
}

TEST(RunLabel, OldFileReadsAsUnlabelledAndGainsTheColumnWhenWritten) {
  testing::TempDir dir;
  const std::string path = dir.file("old.db");
  write_old_file(path);
  {
    const Database reader(path, Database::Access::read_only);  // never migrates
    ASSERT_EQ(reader.runs().size(), 1u);
    EXPECT_EQ(reader.runs()[0].label, "");
    EXPECT_EQ(reader.runs()[0].status, "complete");
  }
  Database writer(path);
  const int64_t id = begin_run<Result>(writer, testing::sample_context(), "after");
  EXPECT_EQ(writer.run(id)->label, "after");
  EXPECT_EQ(writer.run(1)->label, "");
}

}  // namespace
}  // namespace mlspeed
