// The results store on the sqlite3 C API. A row table has one column per field of its row type,
// typed by FieldType, so the schema follows the field lists; a table is made, and a file written
// before a field existed gains its column, at the first write to it. Every statement is prepared
// with bound values. This file holds the Database class and the checks made on opening a file; the
// schema and its migrations are in database_schema.cpp, the statements in sqlite_statement.cpp.
#include "mlspeed/results/database.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/json_input.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/database_schema.h"
#include "mlspeed/results/sqlite_statement.h"

namespace mlspeed {
namespace {

using sqlite::check;
using sqlite::exec;
using sqlite::pragma_integer;
using sqlite::quoted;
using sqlite::SqliteError;
using sqlite::Statement;

constexpr int kApplicationId = 0x4D4C5350;  // "MLSP": marks the file as ours
constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;  // another mlspeed may be storing a row at the same moment
constexpr const char* kWhatToDo = "pass --db with another path";  // a session adds --no-db (run_session.h)
constexpr const char* kWhatToDoReading = "pass --db with the path of an mlspeed results database";

// What is wrong with the file; the constructor adds what to do, which depends on the access.
struct Refusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw Refusal("results database '" + path + "' " + what);
}

std::function<void(const std::string&)>& missing_hook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

// --- checks before anything is written --------------------------------------------------------

// Returns whether the file exists; refuses what SQLite must not be pointed at.
bool check_existing_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return false;  // ENOTDIR: found when making the folder
    refuse(path, std::string("cannot be read (") + std::strerror(errno) + ")");
  }
  if (S_ISDIR(st.st_mode)) refuse(path, "is a folder, not a file");
  if (!S_ISREG(st.st_mode)) refuse(path, "is not a regular file");
  if (st.st_size == 0) return true;  // an empty file is an empty database to SQLite
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, std::string("cannot be read (") + std::strerror(errno) + ")");
  char magic[16] = {};
  in.read(magic, sizeof magic);
  if (in.gcount() != sizeof magic || std::memcmp(magic, "SQLite format 3", 16) != 0)
    refuse(path, "is not an SQLite database (it does not start with the SQLite header)");
  return true;
}

void create_parent_folder(const std::string& path) {
  const std::string folder = parent_directory(path);
  if (folder.empty()) return;
  const std::string why = make_directories(folder);
  if (!why.empty()) refuse(path, "cannot be created: its folder '" + folder + "' cannot be made (" + why + ")");
}

// The file this process created: only that one may be removed again, and only while it is as it
// was made (the same file, still empty), since another process may have opened it since.
struct CreatedFile {
  dev_t device = 0;
  ino_t inode = 0;
};

// Creates the file, empty, only if no file is there (O_EXCL); nothing when another process made
// one since the check, which the caller then checks as any file that was there.
std::optional<CreatedFile> create_exclusively(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) return std::nullopt;
  if (fd < 0) refuse(path, std::string("cannot be created (") + std::strerror(errno) + ")");
  struct stat st {};
  const int stat_rc = ::fstat(fd, &st);
  ::close(fd);
  if (stat_rc != 0) refuse(path, std::string("cannot be read (") + std::strerror(errno) + ")");
  return CreatedFile{st.st_dev, st.st_ino};
}

void remove_if_untouched(const std::string& path, const CreatedFile& created) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_dev == created.device && st.st_ino == created.inode && st.st_size == 0)
    std::remove(path.c_str());
}

int64_t count_tables(sqlite3* db) {
  Statement count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  return count.step() ? count.integer(0) : 0;
}

// Read-only checks on a file that already exists: undamaged, and ours or empty.
void check_identity(sqlite3* db, const std::string& path) {
  Statement quick_check(db, "PRAGMA quick_check");
  std::string verdict = quick_check.step() ? quick_check.text(0) : "no answer";
  if (verdict != "ok") {
    std::replace(verdict.begin(), verdict.end(), '\n', ' ');  // the message must stay one line
    refuse(path, "is damaged (quick_check: " + verdict + ")");
  }

  const int64_t application_id = pragma_integer(db, "application_id");
  const int64_t tables = count_tables(db);
  if (application_id != kApplicationId && (application_id != 0 || tables > 0))
    refuse(path, printf_string("belongs to another program (it has %lld table%s and application_id 0x%llX, not "
                               "mlspeed's 0x%X), so mlspeed leaves it alone",
                               static_cast<long long>(tables), tables == 1 ? "" : "s",
                               static_cast<unsigned long long>(application_id),
                               kApplicationId));
  const int64_t version = pragma_integer(db, "user_version");
  if (version > kSchemaVersion)
    refuse(path, printf_string("was written by a newer mlspeed (schema %lld; this one knows up to %d); "
                               "upgrade mlspeed to add to it",
                               static_cast<long long>(version), kSchemaVersion));
}

// Creates or updates the schema in one write transaction. Taking the write lock and writing the
// header here proves now, not at the first row, that the file (and its folder, for the journal)
// can be written.
void initialise(sqlite3* db) {
  exec(db, "BEGIN IMMEDIATE");
  try {
    schema::create_tables(db);
    schema::mark_abandoned_runs(db);
    exec(db, "PRAGMA application_id = " + std::to_string(kApplicationId));
    exec(db, "PRAGMA user_version = " + std::to_string(kSchemaVersion));
    exec(db, "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);  // its own failure changes nothing
    throw;
  }
}

// Turns an sqlite3 failure while opening into what the user can act on.
[[noreturn]] void refuse_for(const std::string& path, const SqliteError& e) {
  switch (e.code) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: refuse(path, std::string("is damaged (") + e.what() + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED: refuse(path, std::string("is locked by another program (") + e.what() + ")");
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_IOERR:
    case SQLITE_FULL: refuse(path, std::string("cannot be written (") + e.what() + ")");
    default: refuse(path, std::string("cannot be used (") + e.what() + ")");
  }
}

void open_and_prepare(sqlite3* db, const std::string& path, bool existed, bool read_only) {
  try {
    check(db, sqlite3_extended_result_codes(db, 1));
    check(db, sqlite3_busy_timeout(db, kBusyTimeoutMs));
    if (existed) check_identity(db, path);
    if (read_only) {
      // An empty file (0 bytes, or SQLite with no tables) passes as "ours, not yet written to"; to
      // read it there must be something to read.
      if (count_tables(db) == 0) refuse(path, "is empty: no run has been stored in it yet");
      return;
    }
    if (sqlite3_db_readonly(db, "main") == 1) refuse(path, "is read-only (no write permission)");
    initialise(db);
    exec(db, "PRAGMA foreign_keys = ON");  // a row for a run that does not exist is a bug
  } catch (const SqliteError& e) {
    refuse_for(path, e);
  }
}

// Calls `body`, naming the file and what was being done if sqlite3 fails.
template <class Body> auto guarded_sql(const std::string& path, const std::string& doing, Body body) {
  try {
    return body();
  } catch (const SqliteError& e) {
    throw std::runtime_error("results database '" + path + "': " + doing + ": " + e.what());
  }
}

// --- reading rows back ------------------------------------------------------------------------

Value column_value(const Statement& s, int column, FieldType type) {
  if (s.is_null(column)) return {};
  const int stored = s.type(column);
  auto expect = [&](bool ok) {
    if (!ok) throw std::invalid_argument("stored value has the wrong type for " + schema::column_type(type));
  };
  switch (type) {
    case FieldType::boolean: expect(stored == SQLITE_INTEGER); return s.integer(column) != 0;
    case FieldType::integer: expect(stored == SQLITE_INTEGER); return s.integer(column);
    case FieldType::real: expect(stored == SQLITE_FLOAT || stored == SQLITE_INTEGER); return s.real(column);
    case FieldType::text: expect(stored == SQLITE_TEXT); return s.text(column);
    case FieldType::real_list: {
      expect(stored == SQLITE_TEXT);
      const auto list = parse_json_input<nlohmann::json>(s.text(column));
      if (!list.is_array()) throw std::invalid_argument("stored list is not a JSON array");
      std::vector<double> xs;
      for (const auto& x : list) {
        if (!x.is_number()) throw std::invalid_argument("stored list holds " + json_excerpt(x) + ", not a number");
        xs.push_back(x.get<double>());
      }
      return xs;
    }
    case FieldType::integer_list: {
      expect(stored == SQLITE_TEXT);
      const auto list = nlohmann::json::parse(s.text(column), nullptr, false);
      if (!list.is_array()) throw std::invalid_argument("stored list is not a JSON array");
      std::vector<int64_t> xs;
      for (const auto& x : list) {
        if (!x.is_number_integer()) throw std::invalid_argument("stored list holds a value that is not a whole number");
        xs.push_back(x.get<int64_t>());
      }
      return xs;
    }
  }
  return {};
}

StoredRow read_row(const Statement& s, const std::string& table, const std::vector<Column>& columns,
                   const std::string& path) {
  StoredRow row{s.integer(0), {}};
  row.values.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    try {
      row.values.push_back(column_value(s, static_cast<int>(i) + 1, columns[i].type));  // column 0: the id
    } catch (const std::exception& e) {
      throw std::runtime_error("results database '" + path + "': " + table + " row " + std::to_string(row.id) +
                               ", field '" + columns[i].name + "': " + e.what());
    }
  }
  return row;
}

// Rows per run in every row table: what `runs` reports as each run's row count.
std::map<int64_t, int64_t> row_counts(sqlite3* db) {
  // A file not yet migrated (opened read-only) derives each run's table as the migration does.
  const bool has_table = schema::table_columns(db, "runs").count("row_table") > 0;
  std::vector<std::string> tables;
  {
    const std::string row_table =
        has_table ? std::string("COALESCE(row_table, ") + schema::kLegacyRowTable + ")" : schema::kLegacyRowTable;
    Statement s(db, "SELECT DISTINCT " + row_table + " FROM runs");
    while (s.step()) tables.push_back(s.text(0));
  }
  std::map<int64_t, int64_t> counts;
  for (const auto& table : tables) {
    if (!schema::table_exists(db, table)) continue;
    Statement s(db, "SELECT run_id, count(*) FROM " + quoted(table) + " GROUP BY run_id");
    while (s.step()) counts[s.integer(0)] += s.integer(1);
  }
  return counts;
}

// Runs with their kind; a file not yet migrated (opened read-only) derives it as the migration does.
// A file not yet migrated reads every run as unlabelled.
std::string select_runs(sqlite3* db) {
  const std::set<std::string> present = schema::table_columns(db, "runs");
  return std::string("SELECT id, started_at, finished_at, status, command, context_json, ") +
         (present.count("kind") ? std::string("COALESCE(kind, ") + schema::kLegacyKind + ")" : schema::kLegacyKind) +
         ", " + (present.count("label") ? "COALESCE(label, '')" : "''") + " FROM runs";
}

StoredRun read_run(const Statement& s, const std::string& path) {
  StoredRun run;
  run.id = s.integer(0);
  run.started_at = s.text(1);
  run.finished_at = s.text(2);
  run.status = s.text(3);
  run.command = s.text(4);
  run.kind = s.text(6);
  run.label = s.text(7);
  const std::string context = s.text(5);
  if (context.empty()) return run;
  try {
    parse_json_input<nlohmann::json>(context).get_to(run.context);
  } catch (const std::exception& e) {  // not JSON, or not a context's JSON
    run.context = RunContext{};
    run.context_error = "run " + std::to_string(run.id) + ": its context (column context_json) in " + path +
                        " is not readable: " + excerpt(e.what(), 160);
  }
  return run;
}

}  // namespace

Database::Database(const std::string& path, Access access) try : path_(path) {
  if (path.empty()) refuse(path, "has an empty path");
  const bool read_only = access == Access::read_only;
  const bool existed = check_existing_file(path);
  if (!existed && read_only) refuse(path, "does not exist");
  std::optional<CreatedFile> created;
  if (!existed) {
    create_parent_folder(path);
    if (missing_hook()) missing_hook()(path);
    created = create_exclusively(path);
    // Made by another process since the check: theirs, checked as any file that was there.
    if (!created && !check_existing_file(path)) refuse(path, "appeared and vanished while being opened; try again");
  }
  // The file exists now: SQLite opens it as it is, never creating or replacing one.
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  try {
    if (rc != SQLITE_OK) throw SqliteError(db_, rc);
    open_and_prepare(db_, path, /*existed=*/!created, read_only);
  } catch (const SqliteError& e) {
    sqlite3_close(db_);
    if (created) remove_if_untouched(path, *created);
    refuse_for(path, e);
  } catch (...) {
    sqlite3_close(db_);  // the destructor does not run for a constructor that throws
    if (created) remove_if_untouched(path, *created);
    throw;
  }
} catch (const Refusal& e) {
  throw UsageError(std::string(e.what()) + "; " + (access == Access::read_only ? kWhatToDoReading : kWhatToDo));
}

Database::~Database() { sqlite3_close(db_); }

void set_database_missing_hook_for_testing(std::function<void(const std::string&)> hook) {
  missing_hook() = std::move(hook);
}

int64_t Database::begin_run(const RunContext& context, std::string_view kind, std::string_view row_table,
                            std::string_view label) {
  return guarded_sql(path_, "cannot start a run", [&] {
    Statement s(db_,
                "INSERT INTO runs (started_at, status, command, context_json, pid, host, kind, row_table, label) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, context.started_at.empty() ? now_iso8601() : context.started_at)
        .bind(2, context.command)
        .bind(3, nlohmann::json(context).dump())
        .bind(4, static_cast<int64_t>(getpid()))
        .bind(5, schema::this_host())
        .bind(6, std::string(kind))
        .bind(7, std::string(row_table))
        .bind(8, std::string(label));
    s.run();
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  });
}

// No pid: no process of this machine owns the run, so it is never taken for an abandoned one.
int64_t Database::add_run(const StoredRun& run, const std::string& table, const std::vector<Column>& columns,
                          const std::vector<std::vector<Value>>& rows) {
  return guarded_sql(path_, "cannot store the run", [&] {
    exec(db_, "BEGIN IMMEDIATE");
    try {
      Statement s(db_,
                  "INSERT INTO runs (started_at, finished_at, status, command, context_json, host, kind, row_table, "
                  "label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      s.bind(1, run.started_at)
          .bind(2, run.finished_at.empty() ? Value() : Value(run.finished_at))
          .bind(3, run.status)
          .bind(4, run.command)
          .bind(5, nlohmann::json(run.context).dump())
          .bind(6, run.context.host.hostname)
          .bind(7, run.kind)
          .bind(8, table)
          .bind(9, run.label);
      s.run();
      const auto id = static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
      if (!rows.empty()) schema::make_row_table(db_, table, columns);
      const auto run_id = std::find_if(columns.begin(), columns.end(), [](const Column& c) { return c.name == "run_id"; });
      for (std::vector<Value> values : rows) {
        if (run_id != columns.end()) values.at(static_cast<size_t>(run_id - columns.begin())) = id;
        std::string placeholders;
        for (size_t i = 0; i < columns.size(); ++i) placeholders += i ? ", ?" : "?";
        Statement insert(db_, "INSERT INTO " + quoted(table) + " (" + schema::column_list(columns) + ") VALUES (" +
                                  placeholders + ")");
        for (size_t i = 0; i < columns.size(); ++i) insert.bind(static_cast<int>(i) + 1, values.at(i));
        insert.run();
      }
      exec(db_, "COMMIT");
      return id;
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  });
}

// One INSERT outside any explicit transaction commits on its own: a row is durable once this
// returns, whatever happens to the rest of the run.
void Database::insert_row(const std::string& table, const std::vector<Column>& columns,
                          const std::vector<Value>& values) {
  guarded_sql(path_, "cannot store a row in " + table, [&] {
    if (std::find(ready_tables_.begin(), ready_tables_.end(), table) == ready_tables_.end()) {
      schema::make_row_table(db_, table, columns);
      ready_tables_.push_back(table);
    }
    std::string placeholders;
    for (size_t i = 0; i < columns.size(); ++i) placeholders += i ? ", ?" : "?";
    Statement s(db_, "INSERT INTO " + quoted(table) + " (" + schema::column_list(columns) + ") VALUES (" +
                         placeholders + ")");
    for (size_t i = 0; i < columns.size(); ++i) s.bind(static_cast<int>(i) + 1, values.at(i));
    s.run();
  });
}

void Database::finish_run(int64_t run_id, std::string_view status) {
  guarded_sql(path_, "cannot finish a run", [&] {
    Statement s(db_, "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?");
    s.bind(1, std::string(status)).bind(2, now_iso8601()).bind(3, run_id);
    s.run();
  });
  if (sqlite3_changes(db_) != 1)
    throw std::invalid_argument("results database '" + path_ + "' has no run " + std::to_string(run_id));
}

std::vector<StoredRun> Database::runs() const {
  return guarded_sql(path_, "cannot list runs", [&] {
    // Ids grow with every run stored, so they order runs even if the clock was changed.
    Statement s(db_, select_runs(db_) + " ORDER BY id DESC");
    const auto counts = row_counts(db_);
    std::vector<StoredRun> out;
    while (s.step()) {
      out.push_back(read_run(s, path_));
      if (auto it = counts.find(out.back().id); it != counts.end()) out.back().row_count = it->second;
    }
    return out;
  });
}

std::optional<StoredRun> Database::run(int64_t id) const {
  return guarded_sql(path_, "cannot read a run", [&]() -> std::optional<StoredRun> {
    Statement s(db_, select_runs(db_) + " WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    StoredRun run = read_run(s, path_);
    const auto counts = row_counts(db_);
    if (auto it = counts.find(id); it != counts.end()) run.row_count = it->second;
    return run;
  });
}

std::vector<StoredRow> Database::select_rows(const std::string& table, const std::vector<Column>& columns,
                                             int64_t run_id) const {
  return guarded_sql(path_, "cannot read " + table, [&] {
    std::vector<StoredRow> out;
    if (!schema::table_exists(db_, table)) return out;
    Statement s(db_, "SELECT id, " + schema::select_list(db_, table, columns) + " FROM " + quoted(table) +
                         " WHERE run_id = ? ORDER BY id");
    s.bind(1, run_id);
    while (s.step()) out.push_back(read_row(s, table, columns, path_));
    return out;
  });
}

std::string Database::default_path() {
  if (const char* explicit_path = std::getenv("MLSPEED_DB"); explicit_path && *explicit_path) return explicit_path;
  const char* home = std::getenv("HOME");
#ifdef __APPLE__
  if (home && *home) return std::string(home) + "/Library/Application Support/mlspeed/results.db";
#else
  // The XDG spec ignores relative values of XDG_DATA_HOME.
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data == '/')
    return std::string(data) + "/mlspeed/results.db";
  if (home && *home) return std::string(home) + "/.local/share/mlspeed/results.db";
#endif
  throw UsageError(std::string("cannot find a place for the results database: HOME is not set; ") + kWhatToDo);
}

}  // namespace mlspeed
