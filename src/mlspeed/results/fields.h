// The one list of result fields. JSON, JSONL, CSV, the markdown table and the SQLite schema are
// all generated from it, so a field added here appears everywhere at once.
#pragma once

#include <string_view>
#include <vector>

#include "mlspeed/results/field_list.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

using Field = BasicField<Result>;

const std::vector<Field>& result_fields();
const Field* find_field(std::string_view name);

}  // namespace mlspeed
