// Every kind of row a run can hold, in one list. A run's kind (StoredRun::kind: "run", "verify",
// "generate") names one row type; loading a run from the database, writing and reading run
// files, importing and showing go through this list, never through the kinds' names. A new kind
// of row is its row type with its RowType<Row> (results/field_list.h) and an entry in RowKinds.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "mlspeed/core/text.h"
#include "mlspeed/generate/generation_row.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/verify/check_fields.h"

namespace mlspeed {

// A row type as a value, for the functions given to RowKindList.
template <class Row> struct RowTag {
  using type = Row;
};

template <class... Rows> struct RowKindList {
  // One vector per kind: a run fills the one of its kind.
  using Vectors = std::tuple<std::vector<Rows>...>;

  // Calls `f(RowTag<Row>{})` for the row type whose kind is `kind`; false when no type has it.
  template <class F> static bool visit(const std::string& kind, F&& f) {
    return ((kind == RowType<Rows>::kind ? (f(RowTag<Rows>{}), true) : false) || ...);
  }

  // Calls `f(RowTag<Row>{})` for every row type, in the list's order.
  template <class F> static void for_each(F&& f) { (f(RowTag<Rows>{}), ...); }

  // One row of the kind `kind` in words ("result", "check", "generation"); "row" for another kind.
  static std::string noun(const std::string& kind) {
    std::string noun = "row";
    visit(kind, [&](auto tag) { noun = RowType<typename decltype(tag)::type>::noun; });
    return noun;
  }

  // "run, verify or generate", for messages naming the kinds there are.
  static std::string kinds() { return alternatives({RowType<Rows>::kind...}); }

  // "result, check or generation": the rows those kinds hold.
  static std::string nouns() { return alternatives({RowType<Rows>::noun...}); }

 private:
  static std::string alternatives(const std::vector<std::string>& names) {
    return join({names.begin(), names.end() - 1}, ", ") + " or " + names.back();
  }
};

using RowKinds = RowKindList<Result, verify::CheckResult, GenerationRow>;

}  // namespace mlspeed
