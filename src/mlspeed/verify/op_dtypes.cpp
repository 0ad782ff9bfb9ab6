#include "mlspeed/verify/op_dtypes.h"

#include <stdexcept>

#include "mlspeed/core/precision.h"

namespace mlspeed::verify {
namespace {

std::vector<OpDtype> make_table() {
  std::vector<OpDtype> table;
  for (Precision p : kAllPrecisions) {
    OpDtype d{std::string(name(p)), {}, model_dtype(p), allows_tf32(p)};
    for (std::string_view alias : aliases(p)) d.aliases.emplace_back(alias);
    table.push_back(std::move(d));
  }
  table.push_back({"fp64", {"float64"}, c10::ScalarType::Double});
  for (const auto& [name, type] : std::vector<std::pair<std::string, c10::ScalarType>>{
           {"int8", c10::ScalarType::Char},
           {"uint8", c10::ScalarType::Byte},
           {"int16", c10::ScalarType::Short},
           {"int32", c10::ScalarType::Int},
           {"int64", c10::ScalarType::Long},
           {"bool", c10::ScalarType::Bool}})
    table.push_back({name, {}, type});
  return table;
}

}  // namespace

const std::vector<OpDtype>& op_dtypes() {
  static const std::vector<OpDtype> table = make_table();
  return table;
}

const OpDtype* find_op_dtype(std::string_view name_or_alias) {
  for (const OpDtype& d : op_dtypes()) {
    if (d.name == name_or_alias) return &d;
    for (const std::string& alias : d.aliases)
      if (alias == name_or_alias) return &d;
  }
  return nullptr;
}

const std::vector<std::string>& dtype_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const OpDtype& d : op_dtypes()) out.push_back(d.name);
    return out;
  }();
  return names;
}

const std::vector<std::pair<std::string, std::string>>& dtype_aliases() {
  static const std::vector<std::pair<std::string, std::string>> pairs = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const OpDtype& d : op_dtypes())
      for (const std::string& alias : d.aliases) out.emplace_back(alias, d.name);
    return out;
  }();
  return pairs;
}

std::optional<std::string> canonical_dtype(std::string_view dtype) {
  const OpDtype* d = find_op_dtype(dtype);
  return d ? std::optional<std::string>(d->name) : std::nullopt;
}

c10::ScalarType scalar_type(const std::string& dtype) {
  const OpDtype* d = find_op_dtype(dtype);
  if (!d) throw std::invalid_argument("unknown dtype " + dtype);
  return d->type;
}

bool uses_tf32(const std::string& dtype) {
  const OpDtype* d = find_op_dtype(dtype);
  return d && d->tf32;
}

std::string op_dtype_name(c10::ScalarType type, bool tf32) {
  for (const OpDtype& d : op_dtypes())
    if (d.type == type && d.tf32 == (tf32 && type == c10::ScalarType::Float)) return d.name;
  return c10::toString(type);
}

std::string seed_name(const std::string& dtype) {
  const OpDtype* d = find_op_dtype(dtype);
  return d && !d->aliases.empty() ? d->aliases.front() : dtype;
}

std::vector<std::string> dtype_spellings(const std::string& dtype) {
  const OpDtype* d = find_op_dtype(dtype);
  if (!d) return {dtype};
  std::vector<std::string> out{d->name};
  out.insert(out.end(), d->aliases.begin(), d->aliases.end());
  out.emplace_back(c10::toString(d->type));
  return out;
}

}  // namespace mlspeed::verify
