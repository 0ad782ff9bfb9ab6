// The op level's dtypes, one table: the four precisions of the model level (core/precision.h:
// their names, long aliases, storage dtype and TF32 are read from there, so "bf16" means one
// thing everywhere), then float64 and the integer and boolean types the ops are also checked in.
// Rows carry the names; inputs may use the aliases; seeds and messages use the spellings below.
#pragma once

#include <c10/core/ScalarType.h>  // the enum alone: no ATen operator headers here

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlspeed::verify {

struct OpDtype {
  std::string name;                  // "fp16": what rows carry
  std::vector<std::string> aliases;  // "float16", "half": read as the name
  c10::ScalarType type;              // tf32 is float32
  bool tf32 = false;                 // float32 products on TF32 tensor cores
};

// fp32, tf32, fp16, bf16, fp64, int8, uint8, int16, int32, int64, bool.
const std::vector<OpDtype>& op_dtypes();
// By name or alias; nullptr for neither.
const OpDtype* find_op_dtype(std::string_view name_or_alias);

// The names, in the table's order.
const std::vector<std::string>& dtype_names();
// {alias, name}: float32, float64, float16, half, bfloat16.
const std::vector<std::pair<std::string, std::string>>& dtype_aliases();
// A dtype name or alias as its name ("bfloat16" -> "bf16"); nullopt for neither.
std::optional<std::string> canonical_dtype(std::string_view dtype);

// The ScalarType of a name (tf32: float32); std::invalid_argument for an unknown name.
c10::ScalarType scalar_type(const std::string& dtype);
// Whether the name is tf32's.
bool uses_tf32(const std::string& dtype);
// The name of a ScalarType (float32 with TF32: "tf32"); LibTorch's name for a type not listed.
std::string op_dtype_name(c10::ScalarType type, bool tf32);
// The spelling seeds are drawn under: the first alias ("float32"), else the name. The op level
// spelt dtypes the long way before it took the model level's names; a --seed still draws the
// inputs of the runs stored before.
std::string seed_name(const std::string& dtype);
// How messages spell it: the name, its aliases, LibTorch's ("not implemented for 'BFloat16'").
std::vector<std::string> dtype_spellings(const std::string& dtype);

}  // namespace mlspeed::verify
