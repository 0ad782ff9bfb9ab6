// The machinery behind a list of fields: what a row type (a speed Result, a verify CheckResult)
// declares once so that JSON, JSONL, CSV and the SQLite schema are all generated from it.
//
// A list is a std::vector<BasicField<Row>>, built with make_field():
//   make_field<Row>("batch", "batch size", [](auto& r) -> auto& { return r.batch; })
// The column type follows from the member's C++ type: bool, whole numbers, floating point,
// std::string, std::vector<double>, std::vector<int64_t>, std::optional of those, and enums (stored by name; declare an
// EnumNames<E> specialisation, see below).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace mlspeed {

enum class FieldType { boolean, integer, real, text, real_list, integer_list };

// monostate = unknown (JSON null, empty CSV cell, SQL NULL).
using Value =
    std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<double>, std::vector<int64_t>>;

template <class Row> struct BasicField {
  std::string name;
  FieldType type;
  std::string help;
  std::function<Value(const Row&)> get;
  // Throws std::invalid_argument when `value` does not fit the field.
  std::function<void(Row&, const Value&)> set;
};

// What a row type declares once (beside its field list) for every command, printer and table that
// handles it:
//   template <> struct RowType<Result> {
//     static constexpr const char* kind = "run";        // the command whose runs hold these rows
//     static constexpr const char* table = "results";   // the database table they are stored in
//     static constexpr const char* noun = "result";     // one row, in messages
//     static const std::vector<BasicField<Result>>& fields() { return result_fields(); }
//     // The fields every row of the type has: a row read from a file lacking one is no such row.
//     static std::vector<std::string> key_fields() { return {"workload", "device", "status"}; }
//   };
template <class Row> struct RowType;

template <class Row>
const BasicField<Row>* find_field_in(const std::vector<BasicField<Row>>& fields, std::string_view name) {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

// Text form used by CSV: booleans as true/false, lists space-separated, unknown as "".
std::string value_to_text(const Value& value);
Value value_from_text(FieldType type, std::string_view text);  // throws std::invalid_argument

// How an enum is stored: by the name that `name(E)` (found next to the enum) gives. Specialise
// for each enum a field holds, naming its parser and the list of its values kept beside it, from
// which the "one of ..." of a type error is spelled, so the message cannot drift from the enum:
//   template <> struct EnumNames<Status> {
//     static std::optional<Status> parse(std::string_view text) { return parse_status(text); }
//     static constexpr const auto& values = kAllStatuses;
//   };
template <class E> struct EnumNames;

// "ok, oom, too-large, unsupported, error": every value's name, in the enum's order.
template <class E> std::string enum_choices() {
  std::string out;
  for (E value : EnumNames<E>::values) out += (out.empty() ? "" : ", ") + std::string(name(value));
  return out;
}

namespace field_detail {

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};

template <class T> constexpr FieldType type_of() {
  if constexpr (IsOptional<T>::value) return type_of<typename T::value_type>();
  else if constexpr (std::is_same_v<T, bool>) return FieldType::boolean;
  else if constexpr (std::is_integral_v<T>) return FieldType::integer;
  else if constexpr (std::is_floating_point_v<T>) return FieldType::real;
  else if constexpr (std::is_same_v<T, std::vector<double>>) return FieldType::real_list;
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return FieldType::integer_list;
  else return FieldType::text;  // strings and enums (stored by name)
}

[[noreturn]] void mismatch(const char* expected);

template <class T> const T& get_as(const Value& v, const char* expected) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  mismatch(expected);
}

Value to_value(bool v);
Value to_value(int v);
Value to_value(int64_t v);
Value to_value(double v);  // NaN and infinities are unknown
Value to_value(const std::string& v);
Value to_value(const std::vector<double>& v);
Value to_value(const std::vector<int64_t>& v);
template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0> Value to_value(E v) {
  return std::string(name(v));
}
template <class T> Value to_value(const std::optional<T>& v) { return v ? to_value(*v) : Value(); }

void from_value(const Value& v, bool& out);
void from_value(const Value& v, int64_t& out);
void from_value(const Value& v, int& out);
void from_value(const Value& v, double& out);  // whole numbers too
void from_value(const Value& v, std::string& out);
void from_value(const Value& v, std::vector<double>& out);       // a list of whole numbers too
void from_value(const Value& v, std::vector<int64_t>& out);      // a list of whole-valued reals too
template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0> void from_value(const Value& v, E& out) {
  const std::string* text = std::get_if<std::string>(&v);
  const std::optional<E> parsed = text ? EnumNames<E>::parse(*text) : std::nullopt;
  if (!parsed) mismatch(("one of " + enum_choices<E>()).c_str());  // spelled only when it is needed
  out = *parsed;
}
template <class T> void from_value(const Value& v, std::optional<T>& out) {
  if (std::holds_alternative<std::monostate>(v)) {
    out.reset();
  } else {
    T inner{};
    from_value(v, inner);
    out = inner;
  }
}

}  // namespace field_detail

// `access` is a generic lambda returning a reference to the member, for const and non-const rows.
template <class Row, class Access> BasicField<Row> make_field(std::string name, std::string help, Access access) {
  using T = std::decay_t<decltype(access(std::declval<Row&>()))>;
  return BasicField<Row>{std::move(name), field_detail::type_of<T>(), std::move(help),
                         [access](const Row& r) { return field_detail::to_value(access(r)); },
                         [access](Row& r, const Value& v) { field_detail::from_value(v, access(r)); }};
}

// The values of every field of `row`, in list order.
template <class Row> std::vector<Value> values_of(const std::vector<BasicField<Row>>& fields, const Row& row) {
  std::vector<Value> values;
  values.reserve(fields.size());
  for (const auto& f : fields) values.push_back(f.get(row));
  return values;
}

}  // namespace mlspeed
