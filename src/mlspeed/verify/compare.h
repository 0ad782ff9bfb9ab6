// Comparing a device's output with its reference, for `mlspeed verify` (issue 4): every figure a
// person needs to judge a mismatch — never only a mean, because corruption is often partial.
//
// The reference is the same computation on the CPU in float64 from inputs first rounded to the
// tested dtype (reference_input). An element matches when |out - ref| <= atol + rtol * |ref|;
// NaN matches only NaN, an infinity only the same infinity. Integer and bool outputs must be
// equal exactly.
//
// The figure shown for a row is the one that test was made with: the error of the element
// closest to (or furthest past) its tolerance, as an absolute error against what was allowed
// there when atol decided, or as a relative one when rtol * |ref| did. The largest relative error
// alone says nothing: next to a reference of 1e-6 an error of 1e-4 is "relative 100" and well
// inside atol.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlspeed::verify {

// How an op accumulates rounding error: elementwise ops round once; reductions, matrix products
// and convolutions sum `reduction_size` rounded terms, so their error grows like its square root.
enum class OpFamily { elementwise, reduction };

struct Tolerance {
  double rtol = 0;
  double atol = 0;
  bool exact = false;        // integers and bool: equal, nothing less
  std::string description;   // "bf16 reduction over K=4096: rtol 0.1, atol 0.1"
};

// The tolerance for an output of `dtype` (tf32: float32 matrix products on tensor cores). The
// starting points of SPEC.md, to be refined with evidence:
//   elementwise          fp32 1.3e-6 / 1e-5   fp16 1e-3   bf16 1.6e-2
//   reduction (K terms)  fp32 1e-4   tf32 2e-2   fp16 2e-2 .. 5e-2   bf16 5e-2 .. 1e-1
// where a reduction's tolerance is its base for K <= 1024 and grows as sqrt(K / 1024) beyond,
// up to the upper figure (fp32 and tf32 grow without a cap).
Tolerance tolerance_for(at::ScalarType dtype, bool tf32, OpFamily family, int64_t reduction_size = 1);

struct Comparison {
  std::vector<int64_t> shape;           // of the output
  bool shape_matches = true;
  bool dtype_matches = true;            // the output has the dtype the check expected
  int64_t elements = 0;
  int64_t mismatched = 0;
  double mismatch_fraction = 0;
  double max_abs_error = 0;             // over elements where both are finite
  double max_rel_error = 0;             // |out - ref| / |ref| over finite elements with ref != 0
  // The figure the tolerance tested: over finite elements, the largest |out - ref| / (atol + rtol
  // |ref|), at most 1 when they all match; and that element's error, allowance and |ref|. Exact
  // comparisons: 0 when equal, unset otherwise (no allowance to divide by).
  std::optional<double> error_ratio;
  double worst_error = 0, worst_allowed = 0, worst_reference = 0;
  std::optional<std::vector<int64_t>> first_bad_index;  // in row-major order
  int64_t nan_output = 0, inf_output = 0, zero_output = 0;
  int64_t nan_reference = 0, inf_reference = 0, zero_reference = 0;
  Tolerance tolerance;
  bool passed = false;

  // One sentence a user understands: "3.1% of elements (1234 of 40000) off by up to 0.42, first
  // at [3, 17]; worst element: abs error 0.42 (tolerance 0.0002), 2.1e+03x its tolerance (fp32
  // reduction over K=64: rtol 0.0001, atol 0.0001); 12 NaN where the reference has 0" — or
  // "matches (<tolerance>); worst element: rel error 3e-05 (tolerance 0.0001)".
  std::string summary() const;
  // "abs error 3.1e-05 (tolerance 0.0001)" or "rel error ... (tolerance ...)": the worst element
  // in the terms that decided its tolerance; empty for exact comparisons.
  std::string worst_element() const;
};

// `output` is the device's result (any device, dtype and layout); `reference` the float64 (or
// integer/bool) CPU reference. Shapes must match (a mismatch is a failed comparison, not an
// exception).
Comparison compare(const at::Tensor& output, const at::Tensor& reference, const Tolerance& tolerance);

// An input for the reference: `x` rounded to `dtype` (what the device computes from), then
// widened to float64 on the CPU. Integer and bool inputs are returned on the CPU unchanged.
at::Tensor reference_input(const at::Tensor& x, at::ScalarType dtype);

}  // namespace mlspeed::verify
