// The one list of result fields. JSON, JSONL, CSV, the markdown table and the SQLite schema are
// all generated from it, so a field added here appears everywhere at once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mlspeed/results/result.h"

namespace mlspeed {

enum class FieldType { boolean, integer, real, text, real_list };

// monostate = unknown (JSON null, empty CSV cell, SQL NULL).
using Value = std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<double>>;

struct Field {
  std::string name;
  FieldType type;
  std::string help;
  std::function<Value(const Result&)> get;
  // Throws std::invalid_argument when `value` does not fit the field.
  std::function<void(Result&, const Value&)> set;
};

const std::vector<Field>& result_fields();
const Field* find_field(std::string_view name);

// Text form used by CSV: booleans as true/false, lists space-separated, unknown as "".
std::string value_to_text(const Value& value);
Value value_from_text(FieldType type, std::string_view text);  // throws std::invalid_argument

}  // namespace mlspeed
