// The results store on the sqlite3 C API. The results table is generated from result_fields() and
// the checks table from check_fields(): one column per field, typed by FieldType, so the schema
// follows the field lists; files written before a field (or the checks table) existed gain it on
// open. Every statement is prepared with bound values.
#include "mlspeed/results/database.h"

#include <sqlite3.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed {
namespace {

constexpr int kApplicationId = 0x4D4C5350;  // "MLSP": marks the file as ours
constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;  // another mlspeed may be storing a row at the same moment
constexpr const char* kWhatToDo = "pass --db with another path, or --no-db to not store results";
constexpr const char* kWhatToDoReading = "pass --db with the path of an mlspeed results database";

// What is wrong with the file; the constructor adds what to do, which depends on the access.
struct Refusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw Refusal("results database '" + path + "' " + what);
}

// An sqlite3 call that failed: the primary result code and sqlite3_errmsg's text.
struct SqliteError : std::runtime_error {
  SqliteError(sqlite3* db, int rc)
      : std::runtime_error(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), code(rc & 0xff) {}
  int code;
};

void check(sqlite3* db, int rc) {
  if (rc != SQLITE_OK) throw SqliteError(db, rc);
}

// One prepared statement, finalised when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    check(db, sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr));
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const Value& value);
  bool step() {  // true while there is a row to read
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SqliteError(db_, rc);
  }
  void run() { while (step()) {} }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int type(int column) const { return sqlite3_column_type(stmt_, column); }
  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

Statement& Statement::bind(int index, const Value& value) {
  struct Binder {
    sqlite3_stmt* s;
    int i;
    int operator()(std::monostate) const { return sqlite3_bind_null(s, i); }
    int operator()(bool b) const { return sqlite3_bind_int64(s, i, b ? 1 : 0); }
    int operator()(int64_t v) const { return sqlite3_bind_int64(s, i, v); }
    int operator()(double v) const { return sqlite3_bind_double(s, i, v); }
    int operator()(const std::string& v) const {
      return sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    // Lists are JSON text: readable with SQLite's json functions, exact for every double.
    int operator()(const std::vector<double>& xs) const { return (*this)(nlohmann::json(xs).dump()); }
  };
  check(db_, std::visit(Binder{stmt_, index}, value));
  return *this;
}

void exec(sqlite3* db, const std::string& sql) { Statement(db, sql).run(); }

int64_t pragma_integer(sqlite3* db, const std::string& name) {
  Statement s(db, "PRAGMA " + name);
  return s.step() ? s.integer(0) : 0;
}

std::string quoted(const std::string& identifier) { return "\"" + identifier + "\""; }

std::string column_type(FieldType type) {
  switch (type) {
    case FieldType::boolean:
    case FieldType::integer: return "INTEGER";
    case FieldType::real: return "REAL";
    case FieldType::text:
    case FieldType::real_list: return "TEXT";
  }
  return "TEXT";
}

// run_id is the field that links a row to its run; the others are plain typed columns.
template <class Row> std::string column_definition(const BasicField<Row>& f) {
  if (f.name == "run_id") return quoted(f.name) + " INTEGER NOT NULL REFERENCES runs(id)";
  return quoted(f.name) + " " + column_type(f.type);
}

template <class Row> std::string column_list(const std::vector<BasicField<Row>>& fields) {
  std::string out;
  for (const auto& f : fields) out += (out.empty() ? "" : ", ") + quoted(f.name);
  return out;
}

// Columns of `table`; none when the file has no such table.
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

// Every field in field-list order; a column the file lacks (written by an older version and
// opened read-only, so not migrated) reads as NULL, i.e. unknown.
template <class Row>
std::string select_list(sqlite3* db, const std::string& table, const std::vector<BasicField<Row>>& fields) {
  const std::set<std::string> present = table_columns(db, table);
  std::string out;
  for (const auto& f : fields) out += (out.empty() ? "" : ", ") + (present.count(f.name) ? quoted(f.name) : "NULL");
  return out;
}

// One row table per row type, each row keyed by the run it belongs to.
template <class Row>
void create_row_table(sqlite3* db, const std::string& table, const std::vector<BasicField<Row>>& fields) {
  std::string columns = "id INTEGER PRIMARY KEY";
  for (const auto& f : fields) columns += ", " + column_definition(f);
  exec(db, "CREATE TABLE IF NOT EXISTS " + quoted(table) + " (" + columns + ")");
  exec(db, "CREATE INDEX IF NOT EXISTS " + quoted(table + "_by_run") + " ON " + quoted(table) + "(run_id)");
}

// Files written before a field existed lack its column; their rows read it as unknown.
template <class Row>
void add_missing_columns(sqlite3* db, const std::string& table, const std::vector<BasicField<Row>>& fields) {
  const std::set<std::string> present = table_columns(db, table);
  for (const auto& f : fields)
    if (!present.count(f.name))
      exec(db, "ALTER TABLE " + quoted(table) + " ADD COLUMN " + quoted(f.name) + " " + column_type(f.type));
}

// The process that owns a running run (pid, host): a run whose process is gone was killed (a
// second Ctrl-C, SIGKILL, a crash) and could not say so itself. Files written before these columns
// existed get them on open.
void add_run_owner_columns(sqlite3* db) {
  std::set<std::string> present;
  Statement info(db, "PRAGMA table_info(runs)");
  while (info.step()) present.insert(info.text(1));
  if (!present.count("pid")) exec(db, "ALTER TABLE runs ADD COLUMN pid INTEGER");
  if (!present.count("host")) exec(db, "ALTER TABLE runs ADD COLUMN host TEXT");
}

std::string this_host() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "";
  return name;
}

// Runs of this host still 'running' whose process no longer exists become 'interrupted'.
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

// Files written before verification existed have no checks table; it is made on open.
void create_tables(sqlite3* db) {
  exec(db,
       "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, "
       "status TEXT NOT NULL, command TEXT, context_json TEXT)");
  add_run_owner_columns(db);
  create_row_table(db, "results", result_fields());
  add_missing_columns(db, "results", result_fields());
  create_row_table(db, "checks", verify::check_fields());
  add_missing_columns(db, "checks", verify::check_fields());
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
    create_tables(db);
    mark_abandoned_runs(db);
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
template <class Body> auto guarded(const std::string& path, const char* doing, Body body) {
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
    if (!ok) throw std::invalid_argument("stored value has the wrong type for " + column_type(type));
  };
  switch (type) {
    case FieldType::boolean: expect(stored == SQLITE_INTEGER); return s.integer(column) != 0;
    case FieldType::integer: expect(stored == SQLITE_INTEGER); return s.integer(column);
    case FieldType::real: expect(stored == SQLITE_FLOAT || stored == SQLITE_INTEGER); return s.real(column);
    case FieldType::text: expect(stored == SQLITE_TEXT); return s.text(column);
    case FieldType::real_list: {
      expect(stored == SQLITE_TEXT);
      const auto list = nlohmann::json::parse(s.text(column), nullptr, false);
      if (!list.is_array()) throw std::invalid_argument("stored list is not a JSON array");
      std::vector<double> xs;
      for (const auto& x : list) {
        if (!x.is_number()) throw std::invalid_argument("stored list holds " + x.dump() + ", not a number");
        xs.push_back(x.get<double>());
      }
      return xs;
    }
  }
  return {};
}

// `what` names the row in messages ("result", "check").
template <class Row>
Row read_row(const Statement& s, const std::vector<BasicField<Row>>& fields, const std::string& path, const char* what) {
  Row row;
  for (size_t i = 0; i < fields.size(); ++i) {
    const int column = static_cast<int>(i) + 1;  // column 0 is the row id
    try {
      // Unknown (NULL) leaves the default: also how rows stored before a field existed read back.
      const Value v = column_value(s, column, fields[i].type);
      if (!std::holds_alternative<std::monostate>(v)) fields[i].set(row, v);
    } catch (const std::exception& e) {
      throw std::runtime_error("results database '" + path + "': " + what + " " + std::to_string(s.integer(0)) +
                               ", field '" + fields[i].name + "': " + e.what());
    }
  }
  return row;
}

// The rows of one run from `table`, in the order they were stored; none when the file has no such
// table (an old file opened read-only, so not migrated).
template <class Row>
std::vector<Row> read_rows(sqlite3* db, const std::string& table, const std::vector<BasicField<Row>>& fields,
                           int64_t run_id, const std::string& path, const char* what) {
  std::vector<Row> out;
  if (!table_exists(db, table)) return out;
  Statement s(db, "SELECT id, " + select_list(db, table, fields) + " FROM " + quoted(table) +
                      " WHERE run_id = ? ORDER BY id");
  s.bind(1, run_id);
  while (s.step()) out.push_back(read_row(s, fields, path, what));
  return out;
}

// One INSERT outside any explicit transaction commits on its own: a row is durable once this
// returns, whatever happens to the rest of the run.
template <class Row>
void insert_row(sqlite3* db, const std::string& table, const std::vector<BasicField<Row>>& fields, int64_t run_id,
                const Row& row) {
  std::string placeholders;
  for (size_t i = 0; i < fields.size(); ++i) placeholders += i ? ", ?" : "?";
  Statement s(db, "INSERT INTO " + quoted(table) + " (" + column_list(fields) + ") VALUES (" + placeholders + ")");
  for (size_t i = 0; i < fields.size(); ++i)
    s.bind(static_cast<int>(i) + 1, fields[i].name == "run_id" ? Value(run_id) : fields[i].get(row));
  s.run();
}

// Runs with how many rows of each kind they hold; a file without the checks table counts none.
std::string select_runs(sqlite3* db) {
  const std::string checks =
      table_exists(db, "checks") ? "(SELECT count(*) FROM checks WHERE checks.run_id = runs.id)" : "0";
  return "SELECT id, started_at, finished_at, status, command, context_json, "
         "(SELECT count(*) FROM results WHERE results.run_id = runs.id), " +
         checks + " FROM runs";
}

StoredRun read_run(const Statement& s, const std::string& path) {
  StoredRun run;
  run.id = s.integer(0);
  run.started_at = s.text(1);
  run.finished_at = s.text(2);
  run.status = s.text(3);
  run.command = s.text(4);
  run.result_count = s.integer(6);
  run.check_count = s.integer(7);
  const std::string context = s.text(5);
  if (context.empty()) return run;
  try {
    nlohmann::json::parse(context).get_to(run.context);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("results database '" + path + "': run " + std::to_string(run.id) +
                             " has an unreadable context (" + e.what() + ")");
  }
  return run;
}

}  // namespace

Database::Database(const std::string& path, Access access) try : path_(path) {
  if (path.empty()) refuse(path, "has an empty path");
  const bool read_only = access == Access::read_only;
  const bool existed = check_existing_file(path);
  if (!existed && read_only) refuse(path, "does not exist");
  if (!existed) create_parent_folder(path);
  // Without SQLITE_OPEN_CREATE an existing file is opened as it is, never replaced.
  const int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (existed ? 0 : SQLITE_OPEN_CREATE);
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  try {
    if (rc != SQLITE_OK) throw SqliteError(db_, rc);
    open_and_prepare(db_, path, existed, read_only);
  } catch (const SqliteError& e) {
    sqlite3_close(db_);
    if (!existed) std::remove(path.c_str());
    refuse_for(path, e);
  } catch (...) {
    sqlite3_close(db_);  // the destructor does not run for a constructor that throws
    if (!existed) std::remove(path.c_str());  // only a file this call created
    throw;
  }
} catch (const Refusal& e) {
  throw UsageError(std::string(e.what()) + "; " + (access == Access::read_only ? kWhatToDoReading : kWhatToDo));
}

Database::~Database() { sqlite3_close(db_); }

int64_t Database::begin_run(const RunContext& context) {
  return guarded(path_, "cannot start a run", [&] {
    Statement s(db_,
                "INSERT INTO runs (started_at, status, command, context_json, pid, host) "
                "VALUES (?, 'running', ?, ?, ?, ?)");
    s.bind(1, context.started_at.empty() ? now_iso8601() : context.started_at)
        .bind(2, context.command)
        .bind(3, nlohmann::json(context).dump())
        .bind(4, static_cast<int64_t>(getpid()))
        .bind(5, this_host());
    s.run();
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  });
}

void Database::add_result(int64_t run_id, Result& result) {
  guarded(path_, "cannot store a result", [&] { insert_row(db_, "results", result_fields(), run_id, result); });
  result.run_id = run_id;
}

void Database::add_check(int64_t run_id, verify::CheckResult& check) {
  guarded(path_, "cannot store a check", [&] { insert_row(db_, "checks", verify::check_fields(), run_id, check); });
  check.run_id = run_id;
}

void Database::finish_run(int64_t run_id, std::string_view status) {
  guarded(path_, "cannot finish a run", [&] {
    Statement s(db_, "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?");
    s.bind(1, std::string(status)).bind(2, now_iso8601()).bind(3, run_id);
    s.run();
  });
  if (sqlite3_changes(db_) != 1)
    throw std::invalid_argument("results database '" + path_ + "' has no run " + std::to_string(run_id));
}

std::vector<StoredRun> Database::runs() const {
  return guarded(path_, "cannot list runs", [&] {
    // Ids grow with every run stored, so they order runs even if the clock was changed.
    Statement s(db_, select_runs(db_) + " ORDER BY id DESC");
    std::vector<StoredRun> out;
    while (s.step()) out.push_back(read_run(s, path_));
    return out;
  });
}

std::optional<StoredRun> Database::run(int64_t id) const {
  return guarded(path_, "cannot read a run", [&]() -> std::optional<StoredRun> {
    Statement s(db_, select_runs(db_) + " WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read_run(s, path_);
  });
}

std::vector<Result> Database::results(int64_t run_id) const {
  return guarded(path_, "cannot read results",
                 [&] { return read_rows(db_, "results", result_fields(), run_id, path_, "result"); });
}

std::vector<verify::CheckResult> Database::checks(int64_t run_id) const {
  return guarded(path_, "cannot read checks",
                 [&] { return read_rows(db_, "checks", verify::check_fields(), run_id, path_, "check"); });
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
