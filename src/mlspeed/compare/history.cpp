#include "mlspeed/compare/history.h"

#include <regex>
#include <stdexcept>

#include "mlspeed/compare/match_key.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed {
namespace {

// The rows' values of one text column, read without loading whole rows.
std::vector<std::string> column_of(const Database& db, const StoredRun& run, const std::string& column) {
  const std::string table = run.kind == RowType<verify::CheckResult>::kind ? RowType<verify::CheckResult>::table
                                                                            : RowType<Result>::table;
  std::vector<std::string> values;
  for (const StoredRow& row : db.select_rows(table, {{column, FieldType::text}}, run.id))
    if (const auto* text = std::get_if<std::string>(&row.values.front())) values.push_back(*text);
  return values;
}

bool has_workload(const Database& db, const StoredRun& run, const std::string& workload) {
  // A verification run names a workload as the check of its model-level rows.
  const std::string column = run.kind == RowType<verify::CheckResult>::kind ? "check" : "workload";
  for (const std::string& value : column_of(db, run, column))
    if (value == workload) return true;
  return false;
}

bool has_device(const Database& db, const StoredRun& run, const std::string& device) {
  const bool kind_only = device.find(':') == std::string::npos;
  for (const std::string& value : column_of(db, run, "device"))
    if (value == device || (kind_only && device_kind(value) == device)) return true;
  return false;
}

bool passes(const Database& db, const StoredRun& run, const HistoryFilter& f) {
  if (!f.label.empty() && run.label != f.label) return false;
  // ISO 8601 times in one form compare as text; a date is the start of its day.
  if (!f.since.empty() && run.started_at < f.since) return false;
  if (!f.workload.empty() && !has_workload(db, run, f.workload)) return false;
  if (!f.device.empty() && !has_device(db, run, f.device)) return false;
  return true;
}

template <class Access> BasicField<HistoryRow> column(std::string name, std::string help, Access access) {
  return make_field<HistoryRow>(std::move(name), std::move(help), access);
}

// Days in `month` (1-12) of `year`, Gregorian: 2026-02-31 is no date, 2028-02-29 is one.
int days_in_month(int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

}  // namespace

std::string parse_since(const std::string& text) {
  static const std::regex form(R"((\d{4})-(\d{2})-(\d{2})(T(\d{2}):(\d{2})(:(\d{2}))?Z?)?)");
  std::smatch m;
  const bool ok = std::regex_match(text, m, form) && std::stoi(m[2]) >= 1 && std::stoi(m[2]) <= 12 &&
                  std::stoi(m[3]) >= 1 && std::stoi(m[3]) <= days_in_month(std::stoi(m[1]), std::stoi(m[2])) &&
                  (!m[4].matched || (std::stoi(m[5]) < 24 && std::stoi(m[6]) < 60 &&
                                     (!m[8].matched || std::stoi(m[8]) < 60)));
  if (!ok)
    throw std::invalid_argument("'" + text + "' is not a date; give YYYY-MM-DD (2026-11-23) or an ISO 8601 time " +
                                "in UTC (2026-11-23T14:05:00Z)");
  return text.back() == 'Z' ? text.substr(0, text.size() - 1) : text;
}

std::vector<StoredRun> select_history(const Database& db, const HistoryFilter& filter) {
  std::vector<StoredRun> out;
  for (StoredRun& run : db.runs()) {
    if (filter.limit > 0 && static_cast<int64_t>(out.size()) >= filter.limit) break;
    if (passes(db, run, filter)) out.push_back(std::move(run));
  }
  return out;
}

HistoryRow history_row(const StoredRun& run) {
  HistoryRow row;
  row.id = run.id;
  row.started_at = run.started_at;
  row.label = run.label;
  row.kind = run.kind;
  row.status = run.status;
  row.host = run.context.host.hostname;
  for (const DeviceFacts& d : run.context.devices)
    row.devices += (row.devices.empty() ? "" : ", ") + d.id + (d.name.empty() ? "" : " (" + d.name + ")");
  row.torch_version = run.context.host.torch_version;
  row.cuda_version = run.context.host.cuda_version;
  row.rows = run.row_count;
  row.command = run.command;
  return row;
}

const std::vector<BasicField<HistoryRow>>& history_fields() {
#define MLSPEED_HISTORY_FIELD(name, help, member) column(name, help, [](auto& r) -> auto& { return r.member; })
  static const std::vector<BasicField<HistoryRow>> fields = {
      MLSPEED_HISTORY_FIELD("id", "run id, as `compare` and `show` take it", id),
      MLSPEED_HISTORY_FIELD("started_at", "when the run started, ISO 8601 UTC", started_at),
      MLSPEED_HISTORY_FIELD("label", "the run's --label", label),
      MLSPEED_HISTORY_FIELD("kind", "run (speed) or verify (checks)", kind),
      MLSPEED_HISTORY_FIELD("status", "complete, interrupted, stopped, running", status),
      MLSPEED_HISTORY_FIELD("host", "host name", host),
      MLSPEED_HISTORY_FIELD("devices", "each device's id and name", devices),
      MLSPEED_HISTORY_FIELD("torch_version", "LibTorch version", torch_version),
      MLSPEED_HISTORY_FIELD("cuda_version", "CUDA runtime version", cuda_version),
      MLSPEED_HISTORY_FIELD("rows", "rows stored: results or checks", rows),
      MLSPEED_HISTORY_FIELD("command", "the command that stored it", command),
  };
#undef MLSPEED_HISTORY_FIELD
  return fields;
}

}  // namespace mlspeed
