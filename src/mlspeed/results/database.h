// The results database: an embedded SQLite file (no server) holding every run with its context:
// a speed run (`mlspeed run`) has one row per configuration with its raw samples in the results
// table, a verification run (`mlspeed verify`) one row per check in the checks table, so a
// machine's verdicts sit next to its speed results. The tables' columns are the fields of
// results/fields.h and verify/check_fields.h; tables and columns added by later versions are
// added to old files on open (read_write), and read as empty / unknown when opened read_only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/results/context.h"
#include "mlspeed/results/result.h"
#include "mlspeed/verify/check.h"

struct sqlite3;

namespace mlspeed {

struct StoredRun {
  int64_t id = 0;
  std::string started_at;
  std::string finished_at;  // empty while running or if the process died
  std::string status;       // "running", "complete", "interrupted"
  std::string command;
  int64_t result_count = 0;  // rows in the results table: a speed run
  int64_t check_count = 0;   // rows in the checks table: a verification run
  RunContext context;
};

class Database {
 public:
  enum class Access { read_write, read_only };

  // read_write opens or creates the file (and its folder); read_only opens an existing file and
  // never writes to it. Throws UsageError, leaving any existing file untouched, when the path
  // cannot be written (read_write) or read, is not an SQLite file, is damaged, or is some other
  // program's database.
  explicit Database(const std::string& path, Access access = Access::read_write);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }

  int64_t begin_run(const RunContext& context);
  // Stores one row in its own transaction, so everything completed survives an interruption;
  // sets result.run_id.
  void add_result(int64_t run_id, Result& result);
  // Stores one verification check the same way (a verify run is a run like any other: begin_run
  // with its context and command "mlspeed verify ...", add_check per check, finish_run); sets
  // check.run_id.
  void add_check(int64_t run_id, verify::CheckResult& check);
  void finish_run(int64_t run_id, std::string_view status);

  std::vector<StoredRun> runs() const;  // newest first
  std::optional<StoredRun> run(int64_t id) const;
  std::vector<Result> results(int64_t run_id) const;  // in the order they were stored
  std::vector<verify::CheckResult> checks(int64_t run_id) const;  // in the order they were stored

  // $MLSPEED_DB, else $XDG_DATA_HOME/mlspeed/results.db, else ~/.local/share/mlspeed/results.db
  // (~/Library/Application Support/mlspeed/results.db on macOS).
  static std::string default_path();

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace mlspeed
