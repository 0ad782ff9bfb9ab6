// Any row type in the results database: store_row and load_rows do it through the store's untyped
// API, from what the row type declares in its RowType (results/field_list.h). The row type needs
// an int64_t `run_id` member listed as the field "run_id".
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/results/database.h"
#include "mlspeed/results/field_list.h"

namespace mlspeed {

template <class Row> std::vector<Column> columns_of() {
  std::vector<Column> columns;
  for (const auto& f : RowType<Row>::fields()) columns.push_back({f.name, f.type});
  return columns;
}

template <class Row> int64_t begin_run(Database& db, const RunContext& context, std::string_view label = {}) {
  return db.begin_run(context, RowType<Row>::kind, RowType<Row>::table, label);
}

// Stores a run measured elsewhere with all its rows in one transaction (Database::add_run).
template <class Row> int64_t add_run(Database& db, const StoredRun& run, const std::vector<Row>& rows) {
  std::vector<std::vector<Value>> values;
  for (const Row& row : rows) values.push_back(values_of(RowType<Row>::fields(), row));
  return db.add_run(run, RowType<Row>::table, columns_of<Row>(), values);
}

// Stores `row` as a row of run `run_id` (and sets its run_id); throws what Database::insert_row does.
template <class Row> void store_row(Database& db, int64_t run_id, Row& row) {
  row.run_id = run_id;
  db.insert_row(RowType<Row>::table, columns_of<Row>(), values_of(RowType<Row>::fields(), row));
}

// The rows of run `run_id`, in the order they were stored. Unknown values (columns a file written by
// an older version lacks) leave the row's defaults. Throws std::runtime_error naming the row and
// field of a value that does not fit.
template <class Row> std::vector<Row> load_rows(const Database& db, int64_t run_id) {
  const auto& fields = RowType<Row>::fields();
  std::vector<Row> rows;
  for (const StoredRow& stored : db.select_rows(RowType<Row>::table, columns_of<Row>(), run_id)) {
    Row row;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (std::holds_alternative<std::monostate>(stored.values[i])) continue;
      try {
        fields[i].set(row, stored.values[i]);
      } catch (const std::exception& e) {
        throw std::runtime_error("results database '" + db.path() + "': " + RowType<Row>::noun + " " +
                                 std::to_string(stored.id) + ", field '" + fields[i].name + "': " + e.what());
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace mlspeed
