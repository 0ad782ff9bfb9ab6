#include "mlspeed/verify/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mlspeed/core/text.h"
#include "mlspeed/verify/op_dtypes.h"

namespace mlspeed::verify {
namespace {

bool is_exact(at::ScalarType dtype) { return !at::isFloatingType(dtype) && !at::isComplexType(dtype); }

// rtol = atol = base for K <= 1024, base * sqrt(K / 1024) beyond, capped at `cap` (0: no cap).
double grown(double base, int64_t k, double cap) {
  const double t = base * std::max(1.0, std::sqrt(static_cast<double>(std::max<int64_t>(k, 1)) / 1024.0));
  return cap > 0 ? std::min(t, cap) : t;
}


std::string index_text(const std::vector<int64_t>& index) {
  std::string out = "[";
  for (size_t i = 0; i < index.size(); ++i) out += (i ? ", " : "") + std::to_string(index[i]);
  return out + "]";
}

std::vector<int64_t> unravel(int64_t flat, c10::IntArrayRef shape) {
  std::vector<int64_t> index(shape.size());
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    const int64_t size = std::max<int64_t>(shape[d], 1);
    index[d] = flat % size;
    flat /= size;
  }
  return index;
}

// The finite element whose error is largest against its allowance atol + rtol |ref| (an error
// where nothing is allowed counts as infinitely far past it), into `c`.
void find_worst_element(const at::Tensor& diff, const at::Tensor& ref, const at::Tensor& finite,
                        const Tolerance& tolerance, Comparison& c) {
  const at::Tensor magnitude = ref.abs().masked_fill(finite.logical_not(), 0).reshape({-1});
  const at::Tensor error = diff.masked_fill(finite.logical_not(), 0).reshape({-1});
  const at::Tensor allowed = tolerance.atol + tolerance.rtol * magnitude;
  const at::Tensor ratio = at::where(allowed.gt(0), error / allowed,
                                     error.gt(0).to(at::kDouble) * std::numeric_limits<double>::infinity());
  const int64_t worst = ratio.argmax().item<int64_t>();
  const double worst_ratio = ratio[worst].item<double>();
  if (std::isfinite(worst_ratio)) c.error_ratio = worst_ratio;
  c.worst_error = error[worst].item<double>();
  c.worst_allowed = allowed[worst].item<double>();
  c.worst_reference = magnitude[worst].item<double>();
}

}  // namespace

Tolerance tolerance_for(at::ScalarType dtype, bool tf32, OpFamily family, int64_t reduction_size) {
  Tolerance t;
  const std::string label = op_dtype_name(dtype, tf32);
  if (is_exact(dtype)) {
    t.exact = true;
    t.description = label + ": exact";
    return t;
  }
  double tol = 0;
  if (family == OpFamily::elementwise) {
    if (dtype == at::kHalf) t.rtol = t.atol = 1e-3;
    else if (dtype == at::kBFloat16) t.rtol = t.atol = 1.6e-2;
    else if (dtype == at::kDouble) t.rtol = 1e-12, t.atol = 1e-12;
    else t.rtol = 1.3e-6, t.atol = 1e-5;
    t.description = label + " elementwise: rtol " + printf_string("%g", t.rtol) + ", atol " + printf_string("%g", t.atol);
    return t;
  }
  if (dtype == at::kHalf) tol = grown(2e-2, reduction_size, 5e-2);
  else if (dtype == at::kBFloat16) tol = grown(5e-2, reduction_size, 1e-1);
  else if (dtype == at::kDouble) tol = grown(1e-10, reduction_size, 0);
  // tf32: SPEC's 5e-3 flagged healthy H100 products (mm backward, K = 48 and 64: up to 0.0097 off
  // on gradients of magnitude ~8, about 3 sigma of TF32's 2^-11 input rounding summed over K).
  else if (tf32) tol = grown(2e-2, reduction_size, 0);
  else tol = grown(1e-4, reduction_size, 0);
  t.rtol = t.atol = tol;
  t.description = label + " reduction over K=" + std::to_string(reduction_size) + ": rtol " + printf_string("%.3g", tol) +
                  ", atol " + printf_string("%.3g", tol);
  return t;
}

namespace {

// Integers and bool: equal or not. Returns where they differ.
at::Tensor compare_exact(const at::Tensor& out, const at::Tensor& ref, Comparison& c) {
  const at::Tensor o = out.to(at::kLong), r = ref.to(at::kLong);
  const at::Tensor bad = o.ne(r);
  const at::Tensor diff = (o - r).abs().to(at::kDouble);
  c.max_abs_error = c.elements ? diff.max().item<double>() : 0;
  c.zero_output = o.eq(0).sum().item<int64_t>();
  c.zero_reference = r.eq(0).sum().item<int64_t>();
  const at::Tensor nonzero = r.ne(0);
  if (nonzero.any().item<bool>())
    c.max_rel_error = (diff.masked_select(nonzero) / r.masked_select(nonzero).abs().to(at::kDouble)).max().item<double>();
  if (!bad.any().item<bool>()) c.error_ratio = 0;
  return bad;
}

// Floating point: within atol + rtol |ref|, NaN and infinities only against themselves. Returns
// the elements that fail.
at::Tensor compare_floats(const at::Tensor& out, const at::Tensor& ref, const Tolerance& tolerance, Comparison& c) {
  const at::Tensor o = out.to(at::kDouble), r = ref.to(at::kDouble);
  const at::Tensor o_nan = o.isnan(), r_nan = r.isnan();
  const at::Tensor o_inf = o.isinf(), r_inf = r.isinf();
  c.nan_output = o_nan.sum().item<int64_t>();
  c.nan_reference = r_nan.sum().item<int64_t>();
  c.inf_output = o_inf.sum().item<int64_t>();
  c.inf_reference = r_inf.sum().item<int64_t>();
  c.zero_output = o.eq(0).sum().item<int64_t>();
  c.zero_reference = r.eq(0).sum().item<int64_t>();
  const at::Tensor finite = o.isfinite().logical_and(r.isfinite());
  const at::Tensor diff = (o - r).abs();
  const at::Tensor off = diff.gt(tolerance.atol + tolerance.rtol * r.abs()).logical_and(finite);
  // NaN matches only NaN; an infinity only the same infinity; finite against non-finite never.
  const at::Tensor nan_mismatch = o_nan.ne(r_nan);
  const at::Tensor inf_mismatch = (o_inf.logical_or(r_inf)).logical_and(o.ne(r)).logical_and(o_nan.logical_or(r_nan).logical_not());
  if (finite.any().item<bool>()) {
    c.max_abs_error = diff.masked_select(finite).max().item<double>();
    const at::Tensor rel_mask = finite.logical_and(r.ne(0));
    if (rel_mask.any().item<bool>())
      c.max_rel_error = (diff.masked_select(rel_mask) / r.masked_select(rel_mask).abs()).max().item<double>();
    find_worst_element(diff, r, finite, tolerance, c);
  }
  return off.logical_or(nan_mismatch).logical_or(inf_mismatch);
}

}  // namespace

Comparison compare(const at::Tensor& output, const at::Tensor& reference, const Tolerance& tolerance) {
  Comparison c;
  c.tolerance = tolerance;
  c.shape = output.sizes().vec();
  c.elements = output.numel();
  if (output.sizes() != reference.sizes()) {
    c.shape_matches = false;
    c.passed = false;
    return c;
  }
  c.dtype_matches = is_exact(output.scalar_type()) == tolerance.exact;
  const at::Tensor out = output.detach().to(at::kCPU).contiguous();
  const at::Tensor ref = reference.detach().to(at::kCPU).contiguous();
  const at::Tensor bad = tolerance.exact || is_exact(out.scalar_type()) ? compare_exact(out, ref, c)
                                                                         : compare_floats(out, ref, tolerance, c);
  c.mismatched = bad.sum().item<int64_t>();
  c.mismatch_fraction = c.elements ? static_cast<double>(c.mismatched) / static_cast<double>(c.elements) : 0;
  if (c.mismatched > 0) {
    const int64_t flat = bad.reshape({-1}).to(at::kByte).argmax().item<int64_t>();  // the first true
    c.first_bad_index = unravel(flat, out.sizes());
  }
  c.passed = c.mismatched == 0 && c.dtype_matches;
  return c;
}

std::string Comparison::worst_element() const {
  if (tolerance.exact || !error_ratio) return "";
  // Which term of atol + rtol |ref| made the allowance there decides the terms it is told in.
  if (worst_reference > 0 && tolerance.rtol * worst_reference > tolerance.atol)
    return printf_string("rel error %.3g (tolerance %.3g)", worst_error / worst_reference,
                         worst_allowed / worst_reference);
  return printf_string("abs error %.3g (tolerance %.3g)", worst_error, worst_allowed);
}

std::string Comparison::summary() const {
  if (!shape_matches) return "the output's shape " + index_text(shape) + " differs from the reference's";
  if (!dtype_matches) return "the output's dtype does not match the check's (" + tolerance.description + ")";
  std::vector<std::string> parts;
  const std::string worst = worst_element();
  if (mismatched == 0) {
    parts.push_back("matches (" + tolerance.description + ")" + (worst.empty() ? "" : "; worst element: " + worst));
  } else {
    std::string off = printf_string("%.3g%% of elements (%lld of %lld) off", 100.0 * mismatch_fraction,
                                    static_cast<long long>(mismatched), static_cast<long long>(elements));
    if (max_abs_error > 0) off += printf_string(" by up to %.3g", max_abs_error);
    off += ", first at " + index_text(*first_bad_index);
    if (!worst.empty()) off += "; worst element: " + worst + printf_string(", %.3g times its tolerance", *error_ratio);
    parts.push_back(off + " (" + tolerance.description + ")");
  }
  if (nan_output > nan_reference)
    parts.push_back(std::to_string(nan_output) + " NaN where the reference has " + std::to_string(nan_reference));
  if (inf_output > inf_reference)
    parts.push_back(std::to_string(inf_output) + " infinities where the reference has " + std::to_string(inf_reference));
  if (elements > 0 && zero_output == elements && zero_reference < elements) parts.push_back("the output is all zeros");
  return join(parts, "; ");
}

at::Tensor reference_input(const at::Tensor& x, at::ScalarType dtype) {
  const at::Tensor cpu = x.detach().to(at::kCPU);
  if (is_exact(cpu.scalar_type())) return cpu;
  return cpu.to(dtype).to(at::kDouble);
}

}  // namespace mlspeed::verify
