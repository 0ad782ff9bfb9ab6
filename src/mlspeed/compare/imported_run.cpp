#include "mlspeed/compare/imported_run.h"

#include "mlspeed/core/text.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed {

int64_t store_imported_run(Database& db, const LoadedRun& run, const std::string& import_command,
                           const std::string& label) {
  StoredRun record = run.run;
  record.command = import_command;
  if (!label.empty()) record.label = label;
  if (record.started_at.empty()) record.started_at = record.context.started_at;
  if (record.started_at.empty()) record.started_at = now_iso8601();  // the database needs a time
  if (record.kind == RowType<verify::CheckResult>::kind) return add_run(db, record, run.checks);
  return add_run(db, record, run.rows);
}

}  // namespace mlspeed
