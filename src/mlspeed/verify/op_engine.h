// The machinery behind the op suite (op_suite.h): what one op case is, how its inputs are laid out
// on the device, how a case becomes rows (forward, backward, run twice, against float64 on the
// CPU), and the statistical tests of the random-number ops. Internal to verify/; the tests reach
// the helpers directly so each can be shown to fail.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/verify/check.h"
#include "mlspeed/verify/compare.h"
#include "mlspeed/verify/op_dtypes.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {

using Tensors = std::vector<at::Tensor>;

// One form of one op at one size. `compute` is the single definition of the computation: it runs
// on the device (tested dtype, given layout) and, unchanged, on the CPU in float64 for the
// reference (integer ops: in their own dtype, exact).
struct OpCase {
  std::string op;
  std::string variant;
  std::string size_class = "small";
  bool quick = false;                  // a medium case that --quick runs too (small ones all do)
  std::string shape;                   // for the row: "64x64 @ 64x64"
  std::vector<std::string> dtypes;     // dtype_names() it supports
  std::vector<std::string> layouts;    // layout_names() it supports
  OpFamily family = OpFamily::elementwise;
  int64_t reduction_size = 1;          // K of tolerance_for, forward
  int64_t backward_reduction_size = 0; // K for the gradients; 0: no backward pass
  bool integer_output = false;         // indices (argmax): compared exactly whatever the input dtype
  bool precision = false;              // a docs/silent-bugs.md precision trigger (P1-P3)
  // Fresh random inputs on the CPU in `dtype` (index inputs int64), never zeros.
  std::function<Tensors(at::Generator&, at::ScalarType dtype)> inputs;
  std::vector<size_t> layout_inputs{0};  // which inputs take the layout
  std::function<at::Tensor(const Tensors&)> compute;
  // Integer and bool dtypes: the same result computed another way than `compute` (through float64,
  // exact for the suite's small integers; see through_float64). On the CPU `compute` would
  // otherwise run the very kernel under test as its own reference, and a CPU whose int64 cumsum
  // returns its input would pass. Every case with an integer or bool dtype sets it.
  std::function<at::Tensor(const Tensors&)> exact_reference;
  // The out= form (layout out-strided): writes the result into `out`.
  std::function<void(const Tensors&, at::Tensor& out)> compute_out;
  // The in-place form (layout inplace-view): modifies inputs[0] into the result.
  std::function<void(const Tensors&)> compute_inplace;
};

// One random-number op checked statistically on the device (pass "statistics").
struct RandomCase {
  std::string op;
  std::string variant;
  std::string shape;
  std::vector<std::string> dtypes;
  // Draws on the device inside the caller's DeviceScope and judges the draws; returns the sentence
  // for the row and whether the draws are consistent with the distribution.
  std::function<std::pair<bool, std::string>(const c10::Device&, at::ScalarType, uint64_t seed)> check;
};

// What the device part of a huge check hands back, on the CPU: slices of its result and what the
// reference needs to compute the same slices.
struct HugeSlices {
  Tensors outputs;
  Tensors reference_inputs;
};

// A check past 2^31 elements or bytes, too big for a float64 copy of everything: it compares
// chunks or sampled slices with a cheap exact reference.
struct HugeCase {
  std::string op;
  std::string variant;
  std::string shape;
  std::string dtype;
  int64_t device_bytes = 0;  // what it allocates on the device at most
  // The device part (inside the caller's DeviceScope), then the reference for each output slice
  // (outside it, on the CPU).
  std::function<HugeSlices(const c10::Device&, uint64_t seed)> device;
  std::function<Tensors(const Tensors& reference_inputs)> reference;
  Tolerance tolerance;
};

std::vector<OpCase> op_cases();          // small, boundary and medium, in catalogue order
std::vector<RandomCase> random_cases();
std::vector<HugeCase> huge_cases();

// --- layouts ------------------------------------------------------------------------------------

// `x` (on its device) in the memory arrangement `layout` names (contiguous, transposed, strided,
// offset, broadcast), with the same values. For broadcast the values are first made equal along
// dim 0 (broadcast_values), which the reference must then use too.
at::Tensor in_layout(const at::Tensor& x, const std::string& layout);
at::Tensor broadcast_values(const at::Tensor& x);

// The out= and in-place layouts: `write` gets a view of a larger buffer (out-strided: a
// transposed column slice of a buffer filled with a sentinel; inplace-view: every other row of a
// buffer, holding `initial`), and must leave the other elements alone.
struct ViewWrite {
  at::Tensor result;           // the view's values after the write, on the CPU
  int64_t neighbours_changed;  // elements outside the view that the write changed
  std::string first_changed;   // "[2]": the first such element of the buffer, flat
};
ViewWrite write_out_view(at::IntArrayRef sizes, const at::TensorOptions& options,
                         const std::function<void(at::Tensor&)>& write);
ViewWrite write_inplace_view(const at::Tensor& initial, const std::function<void(at::Tensor&)>& write);

// Bitwise equality, NaN payloads included (two NaN with the same bits are equal).
bool bitwise_equal(const at::Tensor& a, const at::Tensor& b);

// Runs `body` for one row: times it, turns an exception into the row's outcome
// (record_failure), and hands the row to `emit`.
void run_row(CheckResult row, const std::function<void(CheckResult&)>& body,
             const std::function<void(CheckResult)>& emit);

// --- statistics ---------------------------------------------------------------------------------

// Whether `samples` (any device, any dtype) have the expected mean and variance within
// `sigmas` standard errors (the variance's standard error from the fourth central moment mu4),
// and lie in [low, high]. The sentence says which test failed and by how many standard errors.
std::pair<bool, std::string> check_moments(const at::Tensor& samples, double mean, double variance, double mu4,
                                           double low, double high, double sigmas);
// Whether category draws (int64, any device) stay in [0, probs.size(0)), never hit a category of
// probability 0, and hit each other category within `sigmas` standard errors of n * p.
std::pair<bool, std::string> check_categories(const at::Tensor& draws, const at::Tensor& probs, double sigmas);

// --- the engine ---------------------------------------------------------------------------------

// The rows of one case: for each dtype and layout asked for, the forward pass and, for float
// dtypes of a differentiable case, the backward pass.
void run_case(const Target& target, const OpCase& c, const std::vector<std::string>& dtypes,
              const std::vector<std::string>& layouts, uint64_t seed,
              const std::function<void(CheckResult)>& emit);
void run_random_case(const Target& target, const RandomCase& c, const std::vector<std::string>& dtypes,
                     uint64_t seed, const std::function<void(CheckResult)>& emit);
void run_huge_case(const Target& target, const HugeCase& c, uint64_t seed,
                   const std::function<void(CheckResult)>& emit);

}  // namespace mlspeed::verify
