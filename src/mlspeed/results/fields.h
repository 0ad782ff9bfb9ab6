// The one list of result fields. JSON, JSONL, CSV, the markdown table and the SQLite schema are
// all generated from it, so a field added here appears everywhere at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/results/field_list.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

using Field = BasicField<Result>;

const std::vector<Field>& result_fields();
const Field* find_field(std::string_view name);

// A speed run's rows in the results database (results/row_table.h).
template <> struct RowType<Result> {
  static constexpr const char* kind = "run";
  static constexpr const char* table = "results";
  static constexpr const char* noun = "result";
  static const std::vector<Field>& fields() { return result_fields(); }
  static std::vector<std::string> key_fields() { return {"workload", "device", "status"}; }
  static std::string describe(const Result& r) {  // "bert-base-infer full cuda:0 bf16 b=4"
    return r.workload + " " + r.size + " " + r.device + " " + std::string(name(r.precision)) +
           " b=" + std::to_string(r.batch);
  }
};

}  // namespace mlspeed
