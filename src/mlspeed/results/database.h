// The results database: an embedded SQLite file (no server) holding every run with its context
// and its rows. Each kind of run keeps its rows in a table of its own (a speed run, `mlspeed run`,
// one row per configuration with its raw samples; a verification run, `mlspeed verify`, one row
// per check), so a machine's verdicts sit next to its speed results. The store knows no row type:
// a table's columns are whatever field list its rows declare (results/row_table.h stores and
// loads any such row type). Tables and columns are made on the first write that needs them; a
// file opened read_only reads a table or column it lacks as empty / unknown.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/results/context.h"
#include "mlspeed/results/field_list.h"

struct sqlite3;

namespace mlspeed {

struct StoredRun {
  int64_t id = 0;
  std::string started_at;
  std::string finished_at;  // empty while running or if the process died
  std::string status;       // "running", "complete", "interrupted"
  std::string command;
  std::string kind;        // "run" or "verify": which command made it, so which rows it holds
  std::string label;       // `--label TEXT` ("driver 580"); empty when none was given
  int64_t row_count = 0;   // rows stored for it
  RunContext context;
  // Why the context cannot be read, when another program damaged it ("run 3: its context (column
  // context_json) in PATH is not readable: ..."); empty when it can. Such a run is still listed, and a
  // command that needs its context refuses it by name rather than failing for every run.
  std::string context_error;
};

// One column of a row table: a field's name and type.
struct Column {
  std::string name;
  FieldType type;
};

// A row as stored: its id in its table and one value per column asked for.
struct StoredRow {
  int64_t id = 0;
  std::vector<Value> values;
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

  // `kind` names the command ("run", "verify") and `row_table` the table its rows go to; `label`
  // is the user's name for the run (`--label`), empty for none.
  int64_t begin_run(const RunContext& context, std::string_view kind, std::string_view row_table,
                    std::string_view label = {});
  // Stores a finished run measured elsewhere (`mlspeed import`) with its record as given (times,
  // status, command, kind, label, context; not its id) and all its rows of `table`, in one
  // transaction: either the whole run is stored or nothing is. Returns the new run's id.
  int64_t add_run(const StoredRun& run, const std::string& table, const std::vector<Column>& columns,
                  const std::vector<std::vector<Value>>& rows);
  // Stores one row of `table` in its own transaction, so everything completed survives an
  // interruption. The table is made, or given the columns it lacks, first. `columns` must hold
  // an integer "run_id", the run the row belongs to.
  void insert_row(const std::string& table, const std::vector<Column>& columns, const std::vector<Value>& values);
  void finish_run(int64_t run_id, std::string_view status);

  std::vector<StoredRun> runs() const;  // newest first
  std::optional<StoredRun> run(int64_t id) const;
  // The rows of one run in `table`, in the order they were stored, with the values of `columns`
  // (unknown where the file lacks a column); none when the file has no such table. Throws
  // std::runtime_error naming the row and column when a stored value has the wrong type.
  std::vector<StoredRow> select_rows(const std::string& table, const std::vector<Column>& columns,
                                     int64_t run_id) const;

  // $MLSPEED_DB, else $XDG_DATA_HOME/mlspeed/results.db, else ~/.local/share/mlspeed/results.db
  // (~/Library/Application Support/mlspeed/results.db on macOS).
  static std::string default_path();

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<std::string> ready_tables_;  // row tables made or migrated by this connection
};

// Tests only: `hook` is called with the path when a read_write open found no file there, before
// it creates one: the moment another process may create the file itself. Empty: no call.
void set_database_missing_hook_for_testing(std::function<void(const std::string& path)> hook);

}  // namespace mlspeed
