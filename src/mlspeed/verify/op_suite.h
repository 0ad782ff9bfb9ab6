// The op-level conformance suite: every op the workloads use and every op of
// docs/silent-bugs.md, each in every layout, dtype and size class it supports, forward and backward, run twice, against the
// same computation on the CPU in float64 from inputs rounded to the tested dtype.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlspeed/verify/check.h"
#include "mlspeed/verify/op_dtypes.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {

// The layouts an input (or output) is given in. Values are the same in every layout; only the
// memory arrangement differs, so any difference from the reference is a layout bug.
//   contiguous    plain row-major
//   transposed    the last two dims swapped in memory (x.t().contiguous().t())
//   strided       every other element of a larger buffer (a slice with step 2)
//   offset        a view starting at a non-zero storage offset
//   broadcast     a dim expanded from size 1 (stride 0)
//   out-strided   the result written through out= into a strided view of a larger buffer, whose
//                 other elements must stay untouched
//   inplace-view  the in-place form applied to a view of a larger buffer, whose other elements
//                 must stay untouched
const std::vector<std::string>& layout_names();

// Size classes. small: shapes that run in milliseconds. boundary: sizes that cross 32-bit index
// boundaries cheaply (2^15, 2^16 elements and batch, powers of two +-1, Linear(1, 32769), ...).
// medium: rows of 1K-16K elements and matrices of 1K-4K, where kernels switch to their long-row
// and blocked paths (BUGS S7: softmax over rows of 12,416 returned NaN); small rows stop at 64.
// huge: 2^31 elements or bytes and batch 65536 (several GiB; skipped, with the reason, where the
// device lacks the memory).
const std::vector<std::string>& size_class_names();
// The classes run when none are asked for: small, boundary, medium (huge must be asked for).
const std::vector<std::string>& default_size_classes();

// The op level's dtypes (dtype_names, dtype_aliases, canonical_dtype) are op_dtypes.h's table.

struct OpSuiteOptions {
  std::vector<std::string> ops;          // empty: every op
  std::vector<std::string> layouts;      // empty: every layout
  std::vector<std::string> dtypes;       // empty: every dtype the op supports; names or aliases
  std::vector<std::string> size_classes; // empty: small, boundary and medium (huge is asked for)
  // The quick subset: contiguous + transposed, fp32/bf16/int64, small sizes and the slice of
  // medium that catches long-row bugs (softmax, layer_norm, sums over rows past 1024).
  bool quick = false;
  uint64_t seed = 0;
};

struct OpInfo {
  std::string name;     // "mm"
  std::string summary;  // "matrix product: square, nn/nt/tn/tt"
};
// Every op the suite checks, in the order it runs them.
std::vector<OpInfo> op_catalogue();

// Throws UsageError for an unknown op, layout, dtype or size class, naming the choices.
void validate(const OpSuiteOptions& options);

// Runs the selected checks on the target, calling `on_row` as each completes (for progress and
// streaming output) and returning every row. Rows carry the check's own fields and the precision
// flags in force; the caller stamps timestamp, host and device facts.
std::vector<CheckResult> run_op_suite(const Target& target, const OpSuiteOptions& options,
                                      const std::function<void(const CheckResult&)>& on_row);

}  // namespace mlspeed::verify
