// The results database's schema and its migrations: the runs table, one row table per row type
// with a typed column per field, and what a file written by an older mlspeed gains when it is
// opened for writing. Internal to results/database*.cpp; not part of mlspeed's API.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "mlspeed/results/database.h"

namespace mlspeed {
namespace schema {

// Runs stored before runs had a kind: the only commands that stored runs then were `mlspeed run`
// (rows in "results") and `mlspeed verify` (rows in "checks"), so the command line tells them apart.
constexpr const char* kLegacyKind = "CASE WHEN command LIKE 'mlspeed verify%' THEN 'verify' ELSE 'run' END";
constexpr const char* kLegacyRowTable = "CASE WHEN command LIKE 'mlspeed verify%' THEN 'checks' ELSE 'results' END";

std::string column_type(FieldType type);
std::string column_list(const std::vector<Column>& columns);

// Columns of `table`; none when the file has no such table.
std::set<std::string> table_columns(sqlite3* db, const std::string& table);
bool table_exists(sqlite3* db, const std::string& table);

// Every column in the order asked; a column the file lacks (written by an older version and
// opened read-only, so not migrated) reads as NULL, i.e. unknown.
std::string select_list(sqlite3* db, const std::string& table, const std::vector<Column>& columns);

// One row table per row type, each row keyed by the run it belongs to. Files written before a
// field existed lack its column and gain it here; their rows read it as unknown, or as the value
// their other columns imply where one does (the weight format of a results row).
void make_row_table(sqlite3* db, const std::string& table, const std::vector<Column>& columns);

std::string this_host();  // what runs.host holds for a run of this machine

// Runs of this host still 'running' whose process no longer exists become 'interrupted'.
void mark_abandoned_runs(sqlite3* db);

// The runs table; row tables are made by the first row stored in each.
void create_tables(sqlite3* db);

}  // namespace schema
}  // namespace mlspeed
