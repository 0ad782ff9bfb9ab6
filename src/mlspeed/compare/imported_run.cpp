#include "mlspeed/compare/imported_run.h"

#include <stdexcept>

#include "mlspeed/core/text.h"
#include "mlspeed/results/row_table.h"

namespace mlspeed {

int64_t store_imported_run(Database& db, const LoadedRun& run, const std::string& import_command,
                           const std::string& label) {
  StoredRun record = run.run;
  record.command = import_command;
  if (!label.empty()) record.label = label;
  if (record.started_at.empty()) record.started_at = record.context.started_at;
  if (record.started_at.empty()) record.started_at = now_iso8601();  // the database needs a time
  int64_t id = 0;
  const bool known =
      RowKinds::visit(record.kind, [&](auto kind) { id = add_run(db, record, run.rows<typename decltype(kind)::type>()); });
  if (!known) throw std::invalid_argument("a run of kind '" + excerpt(record.kind) + "', not " + RowKinds::kinds());
  return id;
}

}  // namespace mlspeed
