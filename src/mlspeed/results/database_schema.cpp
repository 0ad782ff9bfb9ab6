// The schema of the results database and its migrations, as database_schema.h describes them.
#include "mlspeed/results/database_schema.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "mlspeed/core/text.h"
#include "mlspeed/results/sqlite_statement.h"

namespace mlspeed {
namespace schema {
namespace {

using sqlite::exec;
using sqlite::quoted;
using sqlite::Statement;

// run_id is the column that links a row to its run; the others are plain typed columns.
std::string column_definition(const Column& c) {
  if (c.name == "run_id") return quoted(c.name) + " INTEGER NOT NULL REFERENCES runs(id)";
  return quoted(c.name) + " " + column_type(c.type);
}

// Columns of the runs table added after its first version, made on open in files that lack them:
// the process that owns a running run (pid, host: a run whose process is gone was killed by a
// second Ctrl-C, SIGKILL or a crash, and could not say so itself), the run's kind and the
// table of its rows, and the user's label (runs stored before labels read as unlabelled).
void add_run_columns(sqlite3* db) {
  const std::set<std::string> present = table_columns(db, "runs");
  for (const char* column : {"pid INTEGER", "host TEXT", "kind TEXT", "row_table TEXT", "label TEXT"}) {
    const std::string name = std::string(column).substr(0, std::string(column).find(' '));
    if (!present.count(name)) exec(db, std::string("ALTER TABLE runs ADD COLUMN ") + column);
  }
}

// Columns whose value for rows stored before the column existed follows from their other
// columns: the weight format was the job's own storage of the dtype (core/numerics.h) until
// quantised formats came; the kernels were mlspeed's until `run --kernels` came.
struct Backfill {
  const char* table;
  const char* column;
  const char* value;  // an SQL expression over the row's columns
};
constexpr Backfill kBackfills[] = {
    {"results", "weight_format",
     "CASE WHEN job = 'train' OR dtype IN ('fp32', 'tf32') THEN 'f32' WHEN dtype = 'fp16' THEN 'f16' ELSE 'bf16' END"},
    // mlspeed's own kernels were the only ones a run could take before the choice came.
    {"results", "kernels", "'mlspeed'"},
    // One device per row before `run --ddp`.
    {"results", "data_parallel", "0"},
    {"results", "world_size", "1"},
};

void backfill(sqlite3* db, const std::string& table, const std::string& column) {
  for (const Backfill& b : kBackfills)
    if (table == b.table && column == b.column)
      exec(db, "UPDATE " + quoted(table) + " SET " + quoted(column) + " = " + b.value + " WHERE " + quoted(column) +
                   " IS NULL");
}

void give_legacy_runs_a_kind(sqlite3* db) {
  exec(db, std::string("UPDATE runs SET kind = ") + kLegacyKind + ", row_table = " + kLegacyRowTable +
               " WHERE kind IS NULL");
}

}  // namespace

std::string column_type(FieldType type) {
  switch (type) {
    case FieldType::boolean:
    case FieldType::integer: return "INTEGER";
    case FieldType::real: return "REAL";
    case FieldType::text:
    case FieldType::real_list:
    case FieldType::integer_list: return "TEXT";
  }
  return "TEXT";
}

std::string column_list(const std::vector<Column>& columns) {
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + quoted(c.name);
  return out;
}

std::set<std::string> table_columns(sqlite3* db, const std::string& table) {
  std::set<std::string> present;
  Statement info(db, "PRAGMA table_info(" + quoted(table) + ")");
  while (info.step()) present.insert(info.text(1));
  return present;
}

bool table_exists(sqlite3* db, const std::string& table) {
  Statement s(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
  s.bind(1, Value(table));
  return s.step() && s.integer(0) > 0;
}

std::string select_list(sqlite3* db, const std::string& table, const std::vector<Column>& columns) {
  const std::set<std::string> present = table_columns(db, table);
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + (present.count(c.name) ? quoted(c.name) : "NULL");
  return out;
}

void make_row_table(sqlite3* db, const std::string& table, const std::vector<Column>& columns) {
  std::string definitions = "id INTEGER PRIMARY KEY";
  for (const auto& c : columns) definitions += ", " + column_definition(c);
  exec(db, "CREATE TABLE IF NOT EXISTS " + quoted(table) + " (" + definitions + ")");
  exec(db, "CREATE INDEX IF NOT EXISTS " + quoted(table + "_by_run") + " ON " + quoted(table) + "(run_id)");
  const std::set<std::string> present = table_columns(db, table);
  for (const auto& c : columns)
    if (!present.count(c.name)) {
      exec(db, "ALTER TABLE " + quoted(table) + " ADD COLUMN " + quoted(c.name) + " " + column_type(c.type));
      backfill(db, table, c.name);
    }
}

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

void mark_abandoned_runs(sqlite3* db) {
  std::vector<int64_t> abandoned;
  {
    Statement s(db, "SELECT id, pid FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL");
    s.bind(1, this_host());
    while (s.step()) {
      const auto pid = static_cast<pid_t>(s.integer(1));
      if (::kill(pid, 0) != 0 && errno == ESRCH) abandoned.push_back(s.integer(0));
    }
  }
  for (int64_t id : abandoned) {
    Statement u(db, "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ?");
    u.bind(1, now_iso8601()).bind(2, id);
    u.run();
  }
}

void create_tables(sqlite3* db) {
  exec(db,
       "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, "
       "status TEXT NOT NULL, command TEXT, context_json TEXT)");
  add_run_columns(db);
  give_legacy_runs_a_kind(db);
}

}  // namespace schema
}  // namespace mlspeed
