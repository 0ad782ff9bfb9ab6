// Prepared statements and the helpers of sqlite_statement.h on the sqlite3 C API.
#include "mlspeed/results/sqlite_statement.h"

#include <sqlite3.h>

#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlspeed {
namespace sqlite {

SqliteError::SqliteError(sqlite3* db, int rc)
    : std::runtime_error(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), code(rc & 0xff) {}

void check(sqlite3* db, int rc) {
  if (rc != SQLITE_OK) throw SqliteError(db, rc);
}

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  check(db, sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

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
    int operator()(const std::vector<int64_t>& xs) const { return (*this)(nlohmann::json(xs).dump()); }
  };
  check(db_, std::visit(Binder{stmt_, index}, value));
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw SqliteError(db_, rc);
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
int Statement::type(int column) const { return sqlite3_column_type(stmt_, column); }
int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}

void exec(sqlite3* db, const std::string& sql) { Statement(db, sql).run(); }

int64_t pragma_integer(sqlite3* db, const std::string& name) {
  Statement s(db, "PRAGMA " + name);
  return s.step() ? s.integer(0) : 0;
}

std::string quoted(const std::string& identifier) { return "\"" + identifier + "\""; }

}  // namespace sqlite
}  // namespace mlspeed
