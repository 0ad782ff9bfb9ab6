// The little of the sqlite3 C API that the results database needs: a prepared statement that is
// finalised when it goes out of scope, the error a failed call throws, and helpers built on them.
// Internal to results/database*.cpp; not part of mlspeed's API.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "mlspeed/results/field_list.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mlspeed {
namespace sqlite {

// An sqlite3 call that failed: the primary result code and sqlite3_errmsg's text.
struct SqliteError : std::runtime_error {
  SqliteError(sqlite3* db, int rc);
  int code;
};

void check(sqlite3* db, int rc);  // throws SqliteError unless rc is SQLITE_OK

// One prepared statement, finalised when it goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const Value& value);
  bool step();  // true while there is a row to read
  void run() { while (step()) {} }
  bool is_null(int column) const;
  int type(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const std::string& sql);
int64_t pragma_integer(sqlite3* db, const std::string& name);  // 0 when the pragma gives no row
std::string quoted(const std::string& identifier);

}  // namespace sqlite
}  // namespace mlspeed
