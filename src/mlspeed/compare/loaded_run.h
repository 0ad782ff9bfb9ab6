// A run to compare or report, wherever it came from: this machine's results database, a file
// exported on another machine (`mlspeed export`), or a bundled reference set of published figures.
// `compare` and `report` work on these and never on the database directly.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "mlspeed/compare/row_kinds.h"
#include "mlspeed/results/database.h"

namespace mlspeed {

struct LoadedRun {
  // How the user named it, for headings: "run 12", "label:driver 580", "m3max.json", "ref:bert-t4".
  std::string name;
  // The run's record: id (0 when it is not in this database), times, status, command, kind
  // ("run", "verify", "generate"), label, row count and the full context it was measured in.
  StoredRun run;
  // Its rows: only the vector of its kind's row type is filled (results for "run", one per
  // configuration; checks for "verify"; generations for "generate").
  RowKinds::Vectors rows_by_kind;
  // Published figures measured by other code (a bundled reference set): where they were
  // published, e.g. "Macbook Pro GPU for ML? (blog), table 1". Empty for mlspeed's own runs.
  std::string citation;

  bool published() const { return !citation.empty(); }
  template <class Row> std::vector<Row>& rows() { return std::get<std::vector<Row>>(rows_by_kind); }
  template <class Row> const std::vector<Row>& rows() const { return std::get<std::vector<Row>>(rows_by_kind); }
  // How many rows it holds, of whatever kind.
  size_t row_count() const {
    return std::apply([](const auto&... kinds) { return (kinds.size() + ...); }, rows_by_kind);
  }
};

}  // namespace mlspeed
