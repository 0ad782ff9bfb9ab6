#include "mlspeed/verify/gradient_judge.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "mlspeed/core/text.h"
#include "mlspeed/verify/model_detectors.h"

namespace mlspeed::verify {
namespace {

std::string three_figures(double x) { return printf_string("%.3g", x); }

// A tenth of the rms of all the CPU's gradients: below it a gradient is rounding noise.
double noise_floor(const Gradients& cpu) {
  double squares = 0, elements = 0;
  for (const auto& entry : cpu) {
    squares += std::pow(finite_rms(entry.second), 2) * double(entry.second.numel());
    elements += double(entry.second.numel());
  }
  return elements > 0 ? 0.1 * std::sqrt(squares / elements) : 0.0;
}

// rms(a - b) over max(rms(b), floor): a gradient's error relative to its own size.
double relative_rms(const at::Tensor& a, const at::Tensor& b, double floor) {
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  return finite_rms(x - y) / std::max(finite_rms(y), std::max(floor, 1e-300));
}

// The model's sensitivity S: the largest relative change the draws make to any gradient.
double sensitivity_of(const std::vector<Gradients>& draws, const Gradients& cpu, double floor) {
  double s = 0;
  for (const Gradients& draw : draws)
    for (const auto& [name, reference] : cpu)
      if (const auto it = draw.find(name); it != draw.end())
        s = std::max(s, relative_rms(it->second, reference, floor));
  return s;
}

// The second look at a parameter that failed element by element: passes it when its relative
// rms error is within kSensitivityMultiple x S, its use then being its share of that allowance;
// either way the tolerance's description says what the second look found.
bool within_sensitivity(Comparison& cmp, double& use, const at::Tensor& device, const at::Tensor& reference,
                        double floor, double s) {
  const double allowed = kSensitivityMultiple * s;
  const double error = relative_rms(device, reference, floor);
  const std::string figures = "relative rms error " + three_figures(error) + ", allowed " +
                              three_figures(kSensitivityMultiple) + " x S = " + three_figures(allowed);
  if (!(error <= allowed)) {
    cmp.tolerance.description += "; beyond the model's sensitivity too: " + figures;
    return false;
  }
  use = error / allowed;
  cmp.passed = true;
  cmp.error_ratio = use;
  cmp.tolerance.description += "; passed by the model's sensitivity: " + figures;
  return true;
}

}  // namespace

GradientVerdict judge_gradients(const Gradients& device, const Gradients& cpu, Precision precision,
                                const Gradients* perturbed,
                                const std::function<std::vector<Gradients>()>& kink_draws) {
  GradientVerdict v;
  v.parameters = static_cast<int64_t>(cpu.size());
  const double floor = noise_floor(cpu);
  std::tuple<bool, bool, double, double> worst_rank;
  for (const auto& [name, cpu_grad] : cpu) {
    const auto found = device.find(name);
    if (found == device.end()) {
      ++v.failing;
      if (v.flag.empty()) v.flag = "no gradient reached " + name + " on the device (the CPU's has one)";
      continue;
    }
    const at::Tensor ref = cpu_grad.to(at::kDouble);
    Tolerance tolerance = model_tolerance(precision, ModelQuantity::gradient, ref, floor);
    if (perturbed)
      if (const auto it = perturbed->find(name); it != perturbed->end())
        tolerance = widened_by_sensitivity(tolerance, max_abs_difference(it->second, ref), precision);
    Comparison cmp = compare(found->second, ref, tolerance);
    const auto flag = output_flags(found->second, ref, "gradient of " + name, finite_rms(ref) >= floor);
    double use = tolerance_used(found->second, ref, cmp.tolerance);
    bool excused = false;
    if (!cmp.passed && !flag && precision == Precision::fp32) {
      if (!v.sensitivity) v.sensitivity = sensitivity_of(kink_draws(), cpu, floor);
      excused = within_sensitivity(cmp, use, found->second, ref, floor, *v.sensitivity);
      v.within_sensitivity += excused;
    }
    if (!cmp.passed || flag) ++v.failing;
    if (flag && v.flag.empty()) v.flag = *flag;
    // Failing first (most elements off), then passed by the second look, then the largest use.
    const auto rank = std::make_tuple(!cmp.passed, excused, cmp.mismatch_fraction * !cmp.passed, use);
    if (!v.worst || rank > worst_rank) {
      v.worst = cmp;
      worst_rank = rank;
      v.worst_name = name;
    }
  }
  return v;
}

std::string GradientVerdict::message() const {
  const std::string count = std::to_string(failing) + " of " + std::to_string(parameters) + " parameters";
  if (!flag.empty()) return flag + " (" + count + " off)";
  if (!worst) return "no parameter has a gradient on the CPU";
  if (failing > 0) return "gradient of " + worst_name + ": " + worst->summary() + " (" + count + " off)";
  std::string text = "every gradient matches (" + std::to_string(parameters) + " parameters";
  if (within_sensitivity > 0)
    text += ", " + std::to_string(within_sensitivity) +
            " of them by the second look: elements off as where a ReLU or max-pool decision flips, each relative "
            "rms error within " + three_figures(kSensitivityMultiple) + " x S = " +
            three_figures(kSensitivityMultiple * *sensitivity) +
            ", S the most that perturbing the weights by 2^-16 moved any gradient";
  return text + "; the closest to failing: " + worst_name + ")";
}

}  // namespace mlspeed::verify
