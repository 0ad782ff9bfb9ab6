// The random-number ops, checked statistically on the device: support, moments and category
// frequencies, never bitwise.
//
// False alarms: every statistic (a mean, a variance, one category's count) must lie within
// kSigmas = 6 standard errors. With 2^20 samples per moment test and >= 2^14 expected draws per
// category the statistics are normal to a very good approximation, so each one false-alarms with
// probability 2 * Phi(-6) = 2.0e-9. One full run computes about 2 statistics per dtype of
// rand/randn/normal_/bernoulli/dropout (5 ops x 4 dtypes x 2) plus 4 x 16 category counts per
// multinomial dtype (x 4): ~300 statistics, so a healthy device false-alarms about once in
// 1.7 million runs. The same 6 standard errors still see a mean shifted by 0.6% of a standard
// deviation, and any draw of a zero-probability category or outside the support fails outright.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "mlspeed/core/text.h"
#include "mlspeed/verify/op_engine.h"
#include "mlspeed/verify/op_inputs.h"

namespace mlspeed::verify {
namespace {

constexpr double kSigmas = 6.0;
constexpr int64_t kSamples = int64_t{1} << 20;

// The device's default generator, except on the CPU, where the seed makes runs reproducible.
c10::optional<at::Generator> generator(const c10::Device& device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  return c10::nullopt;
}

// Low-precision floats draw from a grid (bf16 rand is k / 256 on some devices): a mean can be off
// by up to a grid step without any bug. This is that step at `magnitude`.
double grid_allowance(at::ScalarType dtype, double magnitude) {
  if (dtype == at::kHalf) return magnitude * std::ldexp(1.0, -10);
  if (dtype == at::kBFloat16) return magnitude * std::ldexp(1.0, -7);
  return 0;
}

// check_moments, with a low-precision grid folded into the expectation: the mean may sit anywhere
// within the allowance of its exact value, the variance within the matching amount.
std::pair<bool, std::string> moments(const at::Tensor& s, double mean, double variance, double mu4, double low,
                                     double high, double allowance) {
  if (allowance == 0) return check_moments(s, mean, variance, mu4, low, high, kSigmas);
  const double sample_mean = s.to(at::kDouble).mean().item<double>();
  const double shifted = std::clamp(sample_mean, mean - allowance, mean + allowance);
  const double sd = std::sqrt(variance);
  const double sample_var = s.to(at::kDouble).var().item<double>();
  const double var_allowance = 2 * allowance * (sd + allowance);
  const double shifted_var = std::clamp(sample_var, variance - var_allowance, variance + var_allowance);
  auto [passed, message] = check_moments(s, shifted, shifted_var, mu4, low, high, kSigmas);
  return {passed, message + printf_string(" (expectations moved by at most the %s grid)", c10::toString(s.scalar_type()))};
}

// Every sample is one of `allowed` (empty: any value in the support is fine).
std::string outside_values(const at::Tensor& s, const std::vector<double>& allowed) {
  if (allowed.empty()) return "";
  at::Tensor ok = at::zeros_like(s, at::kBool);
  for (double a : allowed) ok = ok.logical_or(s.eq(a));
  const int64_t bad = ok.logical_not().sum().item<int64_t>();
  if (bad == 0) return "";
  return std::to_string(bad) + " of " + std::to_string(s.numel()) + " samples are not one of the allowed values, e.g. " +
         printf_string("%g", s.masked_select(ok.logical_not())[0].item<double>());
}

using Draw = std::function<at::Tensor(const at::TensorOptions&, c10::optional<at::Generator>)>;

// `allowed`: the exact values a two-valued op may return (bernoulli 0/1, dropout of ones 0/2).
RandomCase moment_case(const std::string& op, const std::string& variant, double mean, double variance, double mu4,
                       double low, double high, std::vector<double> allowed, Draw draw) {
  RandomCase c;
  c.op = op;
  c.variant = variant;
  c.shape = std::to_string(kSamples);
  c.dtypes = kFloat;
  c.check = [=](const c10::Device& device, at::ScalarType dtype, uint64_t seed) -> std::pair<bool, std::string> {
    const at::Tensor s = draw(at::TensorOptions().device(device).dtype(dtype), generator(device, seed)).to(at::kCPU).to(at::kDouble);
    if (const std::string bad = outside_values(s, allowed); !bad.empty()) return {false, bad};
    return moments(s, mean, variance, mu4, low, high, grid_allowance(dtype, std::max(std::abs(low), std::abs(high))));
  };
  return c;
}

// Multinomial over 4 rows of 16 categories, 3 of each row's categories with probability 0 (BUGS
// R1: drawing one of those, always 0, INT64_MIN). With replacement: 2^16 draws per row, counts
// against n p (the smallest non-zero p is >= 1/4 of the mean, ~1000 expected draws). Without
// replacement, as many draws as non-zero categories: exactly each of them once.
RandomCase multinomial_case(bool replacement) {
  RandomCase c;
  c.op = "multinomial";
  c.variant = replacement ? "with replacement" : "without replacement";
  c.shape = replacement ? "4x16, 65536 draws per row" : "4x16, 13 draws per row";
  c.dtypes = kFloat;
  c.check = [=](const c10::Device& device, at::ScalarType dtype, uint64_t seed) -> std::pair<bool, std::string> {
    at::Generator cpu = at::make_generator<at::CPUGeneratorImpl>(seed);
    at::Tensor probs = at::rand({4, 16}, cpu, at::kDouble) + 0.25;
    const at::Tensor zero = at::rand({4, 16}, cpu, at::kDouble).argsort(-1, false).narrow(-1, 0, 3);
    probs.scatter_(-1, zero, 0.0);
    probs = probs.to(dtype);  // what the device draws from, rounded
    const int64_t draws = replacement ? 65536 : 13;
    const at::Tensor d = at::multinomial(probs.to(device), draws, replacement, generator(device, seed)).to(at::kCPU);
    std::string summary;
    for (int64_t row = 0; row < 4; ++row) {
      if (replacement) {
        auto [passed, message] = check_categories(d[row], probs[row], kSigmas);
        if (!passed) return {false, "row " + std::to_string(row) + ": " + message};
        if (row == 0) summary = message + " (row 0 of 4)";
        continue;
      }
      const at::Tensor expected = probs[row].to(at::kDouble).nonzero().reshape({-1});
      const at::Tensor got = std::get<0>(d[row].sort());
      if (!at::equal(got, expected))
        return {false, "row " + std::to_string(row) + ": drew categories " + c10::str(got.reshape({1, -1})) +
                           " instead of each non-zero one once"};
    }
    return {true, replacement ? summary : "each row drew every non-zero category exactly once and no other"};
  };
  return c;
}

}  // namespace

std::vector<RandomCase> random_cases() {
  std::vector<RandomCase> cases;
  // Uniform [0, 1): variance 1/12, fourth central moment 1/80.
  cases.push_back(moment_case("rand", "uniform [0, 1)", 0.5, 1.0 / 12, 1.0 / 80, 0, 1, {},
                              [](const at::TensorOptions& o, c10::optional<at::Generator> g) { return at::rand({kSamples}, g, o); }));
  // Standard normal, fourth moment 3; |z| < 8 has probability 1 - 1.2e-15 per sample.
  cases.push_back(moment_case("randn", "standard normal", 0, 1, 3, -8, 8, {},
                              [](const at::TensorOptions& o, c10::optional<at::Generator> g) { return at::randn({kSamples}, g, o); }));
  cases.push_back(moment_case("normal_", "mean 2, std 0.5", 2, 0.25, 3 * 0.0625, -2, 6, {},
                              [](const at::TensorOptions& o, c10::optional<at::Generator> g) {
                                return at::empty({kSamples}, o).normal_(2, 0.5, g);
                              }));
  // Bernoulli(1/4), exact in every dtype: mu4 = p(1-p)(1 - 3p + 3p^2).
  const double p = 0.25;
  cases.push_back(moment_case("bernoulli", "p 0.25", p, p * (1 - p), p * (1 - p) * (1 - 3 * p + 3 * p * p), 0, 1, {0, 1},
                              [p](const at::TensorOptions& o, c10::optional<at::Generator> g) {
                                return at::bernoulli(at::full({kSamples}, p, o), g);
                              }));
  // Dropout(0.5) of ones: 0 or 2, mean 1, variance 1, mu4 1 (it takes no generator).
  cases.push_back(moment_case("dropout", "p 0.5 of ones", 1, 1, 1, 0, 2, {0, 2},
                              [](const at::TensorOptions& o, c10::optional<at::Generator>) {
                                return at::dropout(at::ones({kSamples}, o), 0.5, true);
                              }));
  cases.push_back(multinomial_case(true));
  cases.push_back(multinomial_case(false));
  return cases;
}

}  // namespace mlspeed::verify
