#include "mlspeed/verify/op_engine.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <functional>

#include "mlspeed/core/text.h"

namespace mlspeed::verify {
namespace {

// What fills the parts of a buffer that a view does not cover: distinct from the values the
// checks produce, so a kernel that reads or writes past its view is seen.
constexpr double kSentinel = 3.0;

bool is_float(at::ScalarType t) { return at::isFloatingType(t); }

// A seed for one case, dtype and pass: every row gets its own fresh values, reproducibly.
uint64_t mix_seed(uint64_t seed, const std::string& what) {
  return seed * 0x9E3779B97F4A7C15ULL ^ std::hash<std::string>{}(what);
}

BugClass bug_class_for(const std::string& layout, const std::string& size_class, const std::string& pass,
                       bool precision) {
  if (!layout.empty() && layout != "contiguous") return BugClass::layout;
  if (size_class != "small") return BugClass::size;
  if (pass == "backward") return BugClass::training;
  if (pass == "statistics") return BugClass::random;
  if (precision) return BugClass::precision;
  return BugClass::op;
}

CheckResult op_row(const Target& target, const std::string& op, const std::string& variant,
                     const std::string& layout, const std::string& dtype, const std::string& shape,
                     const std::string& size_class, const std::string& pass, bool precision) {
  CheckResult row;
  row.device = target.facts.id;
  row.level = Level::op;
  row.check = op;
  row.variant = variant;
  row.layout = layout;
  row.dtype = dtype;
  row.shape = shape;
  row.size_class = size_class;
  row.pass = pass;
  row.bug_class = bug_class_for(layout, size_class, pass, precision);
  row.tf32 = uses_tf32(dtype);
  record_flags(row);
  return row;
}

double op_seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}


// Marks the row not tested when the device ran something on the CPU instead.
bool op_fell_back(CheckResult& row, const std::vector<std::string>& fallbacks) {
  if (fallbacks.empty()) return false;
  row.outcome = Outcome::not_tested;
  row.fallback = fallbacks.front();
  row.message = "not tested on the device: " + fallbacks.front();
  return true;
}

void note_reproducibility(CheckResult& row, bool reproducible) {
  row.reproducible = reproducible;
  if (!reproducible) row.message += "; two runs were not bitwise equal (non-deterministic)";
}

std::string flat_index_text(int64_t i) { return "[" + std::to_string(i) + "]"; }

// Elements of `buffer` (contiguous, storage offset 0) outside `view` that differ from `before`.
void count_changed_neighbours(const at::Tensor& buffer, const at::Tensor& view, const at::Tensor& before,
                              ViewWrite& out) {
  at::Tensor inside = at::zeros({buffer.numel()}, at::kBool);
  inside.as_strided(view.sizes(), view.strides(), view.storage_offset() - buffer.storage_offset()).fill_(true);
  const at::Tensor after = buffer.detach().to(at::kCPU).reshape({-1});
  const at::Tensor changed = after.ne(before.reshape({-1})).logical_and(inside.logical_not());
  out.neighbours_changed = changed.sum().item<int64_t>();
  out.first_changed.clear();
  if (out.neighbours_changed > 0) out.first_changed = flat_index_text(changed.to(at::kByte).argmax().item<int64_t>());
}

// The device part of a forward row: the result and, for out=/in-place layouts, the neighbours.
struct DeviceResult {
  at::Tensor out;  // on the CPU
  int64_t neighbours_changed = 0;
  std::string first_changed;
};

Tensors device_inputs(const Tensors& masters, const OpCase& c, const std::string& layout, const c10::Device& device) {
  Tensors in;
  for (size_t i = 0; i < masters.size(); ++i) {
    at::Tensor x = masters[i].to(device);
    const bool laid_out = std::find(c.layout_inputs.begin(), c.layout_inputs.end(), i) != c.layout_inputs.end();
    in.push_back(laid_out ? in_layout(x, layout) : x);
  }
  return in;
}

DeviceResult forward_on_device(const OpCase& c, const Tensors& masters, const std::string& layout,
                               const c10::Device& device) {
  DeviceResult r;
  if (layout == "out-strided") {
    const Tensors in = device_inputs(masters, c, "contiguous", device);
    const at::Tensor probe = c.compute(in);  // the out tensor's shape and dtype
    const ViewWrite w = write_out_view(probe.sizes(), probe.options(), [&](at::Tensor& out) { c.compute_out(in, out); });
    r.out = w.result;
    r.neighbours_changed = w.neighbours_changed;
    r.first_changed = w.first_changed;
  } else if (layout == "inplace-view") {
    Tensors in = device_inputs(masters, c, "contiguous", device);
    const ViewWrite w = write_inplace_view(in[0], [&](at::Tensor& self) {
      in[0] = self;
      c.compute_inplace(in);
    });
    r.out = w.result;
    r.neighbours_changed = w.neighbours_changed;
    r.first_changed = w.first_changed;
  } else {
    r.out = c.compute(device_inputs(masters, c, layout, device)).to(at::kCPU);
  }
  return r;
}

Tolerance case_tolerance(const OpCase& c, at::ScalarType dtype, bool tf32, bool backward) {
  if (c.integer_output && !backward) return tolerance_for(at::kLong, false, c.family, c.reduction_size);
  if (backward) return tolerance_for(dtype, tf32, OpFamily::reduction, c.backward_reduction_size);
  return tolerance_for(dtype, tf32, c.family, c.reduction_size);
}

Tensors masters_for(const OpCase& c, at::ScalarType dtype, const std::string& layout, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  Tensors masters = c.inputs(gen, dtype);
  if (layout == "broadcast")
    for (size_t i : c.layout_inputs) masters[i] = broadcast_values(masters[i]);
  return masters;
}

Tensors reference_inputs(const Tensors& masters, at::ScalarType dtype) {
  Tensors ref;
  for (const at::Tensor& m : masters) ref.push_back(reference_input(m, is_float(m.scalar_type()) ? dtype : m.scalar_type()));
  return ref;
}

void forward_row(const Target& target, const OpCase& c, const std::string& dtype_name, const std::string& layout,
                 uint64_t seed, CheckResult& row) {
  const at::ScalarType dtype = scalar_type(dtype_name);
  const Tensors masters = masters_for(c, dtype, layout, seed);
  DeviceResult first, second;
  std::vector<std::string> fallbacks;
  {
    DeviceScope scope(target);
    Tf32Scope tf32(uses_tf32(dtype_name));
    first = forward_on_device(c, masters, layout, target.device);
    second = forward_on_device(c, masters, layout, target.device);
    fallbacks = scope.fallbacks();
  }
  if (op_fell_back(row, fallbacks)) return;
  const Tensors ref_in = reference_inputs(masters, dtype);
  const at::Tensor reference = c.exact_reference && !at::isFloatingType(dtype)
                                   ? c.exact_reference(ref_in).to(first.out.scalar_type())
                                   : c.compute(ref_in);
  record(row, compare(first.out, reference, case_tolerance(c, dtype, uses_tf32(dtype_name), false)));
  if (first.neighbours_changed > 0) {
    row.outcome = Outcome::fail;
    row.message = std::to_string(first.neighbours_changed) + " elements outside the " + layout +
                  " view changed, first at buffer index " + first.first_changed + "; result: " + row.message;
  }
  note_reproducibility(row, bitwise_equal(first.out, second.out));
}

// Gradients of sum(out * g) w.r.t. every float input, for inputs in `layout`.
Tensors op_gradients(const OpCase& c, Tensors inputs, const at::Tensor& g) {
  Tensors wrt;
  for (at::Tensor& x : inputs)
    if (is_float(x.scalar_type())) {
      x = x.detach().requires_grad_(true);
      wrt.push_back(x);
    }
  const at::Tensor out = c.compute(inputs);
  const auto grads = torch::autograd::grad({out}, wrt, {g.to(out.device())});
  Tensors on_cpu;
  for (const at::Tensor& grad : grads) on_cpu.push_back(grad.to(at::kCPU));
  return on_cpu;
}

void backward_row(const Target& target, const OpCase& c, const std::string& dtype_name, const std::string& layout,
                  uint64_t seed, CheckResult& row) {
  const at::ScalarType dtype = scalar_type(dtype_name);
  const Tensors masters = masters_for(c, dtype, layout, seed);
  const Tensors ref_in = reference_inputs(masters, dtype);
  // The fixed random weighting of the output, rounded to the tested dtype.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(mix_seed(seed, "g"));
  const at::Tensor g = at::randn(c.compute(ref_in).sizes(), gen, at::kDouble).to(dtype);
  Tensors first, second;
  std::vector<std::string> fallbacks;
  {
    DeviceScope scope(target);
    Tf32Scope tf32(uses_tf32(dtype_name));
    first = op_gradients(c, device_inputs(masters, c, layout, target.device), g);
    second = op_gradients(c, device_inputs(masters, c, layout, target.device), g);
    fallbacks = scope.fallbacks();
  }
  if (op_fell_back(row, fallbacks)) return;
  const Tensors reference = op_gradients(c, ref_in, reference_input(g, dtype));
  const Tolerance tolerance = case_tolerance(c, dtype, uses_tf32(dtype_name), true);
  bool reproducible = true;
  // The row reports the first gradient that fails, or the last one when all pass.
  for (size_t i = 0; i < reference.size(); ++i) {
    record(row, compare(first[i], reference[i], tolerance));
    row.message = "gradient of float input " + std::to_string(i) + ": " + row.message;
    if (row.outcome == Outcome::fail) break;
  }
  for (size_t i = 0; i < reference.size(); ++i) reproducible = reproducible && bitwise_equal(first[i], second[i]);
  note_reproducibility(row, reproducible);
}

// The sample's extreme element, for a sentence about its support.
std::string outside_support(const at::Tensor& s, double low, double high) {
  const at::Tensor bad = s.lt(low).logical_or(s.gt(high)).logical_or(s.isnan());
  const int64_t count = bad.sum().item<int64_t>();
  if (count == 0) return "";
  const double example = s.masked_select(bad)[0].item<double>();
  return std::to_string(count) + " of " + std::to_string(s.numel()) + " samples outside [" +
         printf_string("%g", low) + ", " + printf_string("%g", high) + "], e.g. " + printf_string("%g", example);
}

}  // namespace

void run_row(CheckResult row, const std::function<void(CheckResult&)>& body,
             const std::function<void(CheckResult)>& emit) {
  const auto start = std::chrono::steady_clock::now();
  try {
    body(row);
  } catch (...) {
    record_failure(row, std::current_exception());
  }
  row.seconds = op_seconds(start);
  emit(std::move(row));
}

at::Tensor broadcast_values(const at::Tensor& x) {
  if (x.dim() == 0 || x.size(0) <= 1) return x;
  return x.narrow(0, 0, 1).expand(x.sizes()).contiguous();
}

at::Tensor in_layout(const at::Tensor& x, const std::string& layout) {
  if (layout == "transposed" && x.dim() >= 2) return x.transpose(-1, -2).contiguous().transpose(-1, -2);
  if (layout == "strided" && x.dim() >= 1) {
    // Every other row of a buffer twice as long (w[::2], BUGS L1).
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes[0] *= 2;
    at::Tensor view = at::full(sizes, kSentinel, x.options()).slice(0, 0, sizes[0], 2);
    view.copy_(x);
    return view;
  }
  if (layout == "offset" && x.dim() >= 1) {
    // One row of sentinels before the values (t[1:], BUGS L2).
    const int64_t row = x.size(0) > 0 ? x.numel() / x.size(0) : 1;
    at::Tensor view = at::full({row + x.numel()}, kSentinel, x.options()).narrow(0, row, x.numel()).view(x.sizes());
    view.copy_(x);
    return view;
  }
  if (layout == "broadcast" && x.dim() >= 1 && x.size(0) > 1) return x.narrow(0, 0, 1).expand(x.sizes());
  return x.contiguous();
}

ViewWrite write_out_view(at::IntArrayRef sizes, const at::TensorOptions& options,
                         const std::function<void(at::Tensor&)>& write) {
  constexpr int64_t pad = 2;
  at::Tensor buffer, view;
  if (sizes.size() >= 2) {
    // The inside of a larger buffer, stored transposed: BUGS L5 (out= transposed) and L6
    // (out=Z[:, 128:384]) at once, with neighbours on both sides of every row and column.
    std::vector<int64_t> buffer_sizes = sizes.vec();
    const int64_t rows = sizes[sizes.size() - 2], cols = sizes[sizes.size() - 1];
    buffer_sizes[sizes.size() - 2] = cols + 2 * pad;
    buffer_sizes[sizes.size() - 1] = rows + 2 * pad;
    buffer = at::full(buffer_sizes, kSentinel, options);
    view = buffer.narrow(-2, pad, cols).narrow(-1, pad, rows).transpose(-1, -2);
  } else if (sizes.size() == 1) {
    buffer = at::full({sizes[0] + 2 * pad}, kSentinel, options);
    view = buffer.narrow(0, pad, sizes[0]);
  } else {
    buffer = at::full({2 * pad + 1}, kSentinel, options);
    view = buffer.select(0, pad);
  }
  const at::Tensor before = buffer.to(at::kCPU).clone();
  write(view);
  ViewWrite w;
  w.result = view.to(at::kCPU).contiguous();
  count_changed_neighbours(buffer, view, before, w);
  return w;
}

ViewWrite write_inplace_view(const at::Tensor& initial, const std::function<void(at::Tensor&)>& write) {
  // Every other row of a buffer (b[1], b[3], ...: BUGS L7), its other rows holding sentinels.
  std::vector<int64_t> sizes = initial.sizes().vec();
  if (sizes.empty()) sizes.push_back(1);
  const int64_t rows = sizes[0];
  sizes[0] = 2 * rows + 1;
  at::Tensor buffer = at::full(sizes, kSentinel, initial.options());
  at::Tensor view = buffer.slice(0, 1, 2 * rows, 2);
  if (initial.dim() == 0) view = view.select(0, 0);
  view.copy_(initial);
  const at::Tensor before = buffer.to(at::kCPU).clone();
  write(view);
  ViewWrite w;
  w.result = view.to(at::kCPU).contiguous();
  count_changed_neighbours(buffer, view, before, w);
  return w;
}

bool bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  const at::Tensor x = a.detach().to(at::kCPU).contiguous(), y = b.detach().to(at::kCPU).contiguous();
  return std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()) == 0;
}

std::pair<bool, std::string> check_moments(const at::Tensor& samples, double mean, double variance, double mu4,
                                           double low, double high, double sigmas) {
  const at::Tensor s = samples.detach().to(at::kCPU).to(at::kDouble).reshape({-1});
  const double n = static_cast<double>(s.numel());
  if (const std::string bad = outside_support(s, low, high); !bad.empty()) return {false, bad};
  const double m = s.mean().item<double>();
  const double v = s.var().item<double>();
  // Standard errors of the sample mean and (for large n) of the sample variance.
  const double se_mean = std::sqrt(variance / n);
  const double se_var = std::sqrt(std::max(mu4 - variance * variance, 0.0) / n);
  const double z_mean = (m - mean) / se_mean;
  // A two-valued distribution symmetric about its mean (dropout of ones) has mu4 = variance^2:
  // its variance follows from its mean, and the mean test covers it.
  const double z_var = se_var > 0 ? (v - variance) / se_var : 0.0;
  const bool passed = std::abs(z_mean) <= sigmas && std::abs(z_var) <= sigmas;
  return {passed, printf_string("%.0f samples: mean %.6g (expected %.6g, %.1f standard errors), variance %.6g "
                                "(expected %.6g, %.1f standard errors); limit %.0f standard errors",
                                n, m, mean, z_mean, v, variance, z_var, sigmas)};
}

std::pair<bool, std::string> check_categories(const at::Tensor& draws, const at::Tensor& probs, double sigmas) {
  const at::Tensor d = draws.detach().to(at::kCPU).to(at::kLong).reshape({-1});
  const at::Tensor p = probs.detach().to(at::kCPU).to(at::kDouble).reshape({-1});
  const int64_t k = p.numel();
  const double n = static_cast<double>(d.numel());
  if (const std::string bad = outside_support(d.to(at::kDouble), 0, static_cast<double>(k - 1)); !bad.empty())
    return {false, "categories: " + bad};
  const at::Tensor counts = at::bincount(d, {}, k).to(at::kDouble);
  const at::Tensor expected = p / p.sum() * n;
  double worst = 0;
  int64_t worst_at = 0;
  for (int64_t i = 0; i < k; ++i) {
    const double e = expected[i].item<double>(), got = counts[i].item<double>();
    if (e == 0 && got > 0)
      return {false, printf_string("category %lld has probability 0 and was drawn %.0f times of %.0f",
                                   static_cast<long long>(i), got, n)};
    if (e == 0) continue;
    const double z = (got - e) / std::sqrt(e * (1 - e / n));
    if (std::abs(z) > std::abs(worst)) worst = z, worst_at = i;
  }
  return {std::abs(worst) <= sigmas,
          printf_string("%.0f draws over %lld categories, zero-probability ones never drawn; largest deviation "
                        "%.1f standard errors (category %lld, %.0f drawn, %.1f expected); limit %.0f",
                        n, static_cast<long long>(k), worst, static_cast<long long>(worst_at),
                        counts[worst_at].item<double>(), expected[worst_at].item<double>(), sigmas)};
}

void run_case(const Target& target, const OpCase& c, const std::vector<std::string>& dtypes,
              const std::vector<std::string>& layouts, uint64_t seed, const std::function<void(CheckResult)>& emit) {
  for (const std::string& dtype : dtypes)
    for (const std::string& layout : layouts) {
      const uint64_t row_seed =
          mix_seed(seed, c.op + "/" + c.variant + "/" + c.size_class + "/" + seed_name(dtype));
      run_row(op_row(target, c.op, c.variant, layout, dtype, c.shape, c.size_class, "forward", c.precision),
              [&](CheckResult& row) { forward_row(target, c, dtype, layout, row_seed, row); }, emit);
      const bool view_layout = layout == "out-strided" || layout == "inplace-view";
      if (c.backward_reduction_size > 0 && is_float(scalar_type(dtype)) && !view_layout)
        run_row(op_row(target, c.op, c.variant, layout, dtype, c.shape, c.size_class, "backward", c.precision),
                [&](CheckResult& row) { backward_row(target, c, dtype, layout, row_seed, row); }, emit);
    }
}

void run_random_case(const Target& target, const RandomCase& c, const std::vector<std::string>& dtypes,
                     uint64_t seed, const std::function<void(CheckResult)>& emit) {
  for (const std::string& dtype : dtypes)
    run_row(op_row(target, c.op, c.variant, "contiguous", dtype, c.shape, "small", "statistics", false),
            [&](CheckResult& row) {
              std::pair<bool, std::string> verdict;
              std::vector<std::string> fallbacks;
              {
                DeviceScope scope(target);
                const uint64_t draw_seed = mix_seed(seed, c.op + c.variant + seed_name(dtype));
                verdict = c.check(target.device, scalar_type(dtype), draw_seed);
                fallbacks = scope.fallbacks();
              }
              if (op_fell_back(row, fallbacks)) return;
              row.outcome = verdict.first ? Outcome::pass : Outcome::fail;
              row.message = verdict.second;
            },
            emit);
}

void run_huge_case(const Target& target, const HugeCase& c, uint64_t seed, const std::function<void(CheckResult)>& emit) {
  run_row(op_row(target, c.op, c.variant, "contiguous", c.dtype, c.shape, "huge", "forward", false),
          [&](CheckResult& row) {
            const std::optional<int64_t> free = free_memory(target.device);
            if (!free || *free < c.device_bytes) {
              row.outcome = Outcome::skipped;
              row.message = printf_string("needs %.1f GiB of device memory; ", c.device_bytes / 1073741824.0) +
                            (free ? printf_string("%.1f GiB free", *free / 1073741824.0) : "free memory unknown");
              return;
            }
            HugeSlices slices;
            std::vector<std::string> fallbacks;
            {
              DeviceScope scope(target);
              slices = c.device(target.device, seed);
              fallbacks = scope.fallbacks();
            }
            release_cached_memory(target.device);
            if (op_fell_back(row, fallbacks)) return;
            const Tensors references = c.reference(slices.reference_inputs);
            // Every slice compared; the row reports the first failing one, or the last.
            for (size_t i = 0; i < references.size(); ++i) {
              record(row, compare(slices.outputs[i], references[i], c.tolerance));
              if (row.outcome == Outcome::fail) break;
            }
          },
          emit);
}

}  // namespace mlspeed::verify
