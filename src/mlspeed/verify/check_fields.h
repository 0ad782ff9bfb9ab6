// The one list of check fields: JSON, JSONL, CSV and the database's `checks` table are all
// generated from it (the field machinery of results/field_list.h), so a field added here appears
// everywhere at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/results/field_list.h"
#include "mlspeed/verify/check.h"

namespace mlspeed::verify {

using CheckField = BasicField<CheckResult>;

// Every member of CheckResult, the context included (device facts but their peak FLOP/s, which
// say nothing about correctness; host facts; tf32, deterministic, cudnn_benchmark, the reduced-precision
// reductions; fault).
const std::vector<CheckField>& check_fields();
const CheckField* find_check_field(std::string_view name);

}  // namespace mlspeed::verify

namespace mlspeed {
// A verification run's rows in the results database (results/row_table.h).
template <> struct RowType<verify::CheckResult> {
  static constexpr const char* kind = "verify";
  static constexpr const char* table = "checks";
  static constexpr const char* noun = "check";
  static const std::vector<verify::CheckField>& fields() { return verify::check_fields(); }
  // A check's outcome defaults to pass: a row without one must not read as a passed check.
  static std::vector<std::string> key_fields() { return {"check", "device", "outcome"}; }
  static std::string describe(const verify::CheckResult& c) {  // "cuda:0 softmax bf16 transposed forward"
    return c.device + " " + c.check + " " + c.dtype + " " + c.layout + " " + c.pass;
  }
};
}  // namespace mlspeed
