// What the op suite's case tables share (op_cases.cpp, op_cases_data.cpp, op_random.cpp): dtype and
// layout lists, input makers, and the out= / in-place layouts of a case. Internal to verify/.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlspeed/verify/op_engine.h"

namespace mlspeed::verify {

using Sizes = std::vector<int64_t>;

inline const std::vector<std::string> kFloat{"fp32", "fp16", "bf16", "fp64"};
inline const std::vector<std::string> kAll{"fp32", "fp16",  "bf16",  "fp64",  "int8",
                                           "uint8", "int16", "int32", "int64", "bool"};
inline const std::vector<std::string> kPlain{"contiguous", "transposed", "strided", "offset", "broadcast"};
inline const std::vector<std::string> kNoBroadcast{"contiguous", "transposed", "strided", "offset"};

at::Tensor normal(at::Generator& gen, Sizes sizes, at::ScalarType dtype, double scale = 1.0);
at::Tensor uniform(at::Generator& gen, Sizes sizes, at::ScalarType dtype, double low, double high);
// Non-zero values for any dtype: floats N(0, scale^2); integers in +-[1, limit] (unsigned: [1,
// limit]); bool random (all true would hide too much).
at::Tensor values(at::Generator& gen, Sizes sizes, at::ScalarType dtype, double scale = 1.0, int64_t limit = 3);
// Small integers (ties on purpose: argmax must return the first), in any dtype.
at::Tensor ties(at::Generator& gen, Sizes sizes, at::ScalarType dtype);

// Appends the out= and in-place layouts where the case has those forms.
OpCase with_view_layouts(OpCase c);

// A reduction (sum, cumsum, prod, max, min, argmax) along the last dim of a 1-d or 2-d input;
// integer and bool references through float64 (op_cases_data.cpp).
OpCase reduction_case(const std::string& op, Sizes sizes, const std::string& size_class,
                      std::vector<std::string> dtypes);

// An exact_reference for integer and bool dtypes: `compute` with the inputs listed in `widened`
// (the values, not the indices) converted to float64 first. Exact for the suite's small integers,
// and it runs the float64 kernel, never the integer or bool one under test.
std::function<at::Tensor(const Tensors&)> through_float64(std::function<at::Tensor(const Tensors&)> compute,
                                                          std::vector<size_t> widened);

}  // namespace mlspeed::verify
