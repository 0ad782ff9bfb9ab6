// The judgements of the model-level checks (model_checks.h), as functions of what the device and
// the CPU produced, so that each can be shown to catch what it is for: a tolerance for a whole
// model, the flags for a broken output (NaN, all zeros, a constant "black image"), a training
// curve that flatlines or leaves the CPU's, parameters a training run never updated, greedy tokens
// that differ from the CPU's and GPT-2's repeated token 0 ("!!!!").
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/verify/compare.h"
#include "mlspeed/workloads/generation.h"

namespace mlspeed::verify {

// What a whole-model tolerance applies to.
enum class ModelQuantity { output, gradient, loss_curve };

// The tolerance for a whole model's output (or one parameter's gradient) computed in `precision`
// against the same model in float32 on the CPU. An element matches when
//   |device - cpu| <= rtol * |cpu| + atol,   atol = scale * rms(cpu)
// The absolute part follows the size of the tensor's values: a deep model's rounding error is a
// fraction of its typical value, so an element near zero cannot be held to its own magnitude.
// A loss curve is held to rtol * |cpu loss| + scale (losses are O(1)). `rms_floor` raises the rms
// used for atol: a gradient that is zero in exact arithmetic (a key bias under softmax) is pure
// rounding noise on the CPU, so it is held to a tenth of the rms of all the model's gradients
// instead. The figures and the measurements behind them are in model_detectors.cpp.
Tolerance model_tolerance(Precision precision, ModelQuantity quantity, const at::Tensor& reference,
                          double rms_floor = 0);

// Rounding error is not uniform across models: BatchNorm in training mode over few values per
// channel (ResNet's layer4 at 1x1 or 2x2) amplifies it in the gradients of the convolutions
// before it to several times the values' own size, on any healthy device, in any precision short
// of float32; a fixed tolerance wide enough for that would let every other model's errors through.
// So each model's sensitivity is measured: the CPU runs the same pass in float32 with every weight
// multiplied by (1 + u * N(0, 1)), u the tested precision's unit of rounding, and an element also
// matches when it is within kSensitivityMultiple times the largest change that makes.

// u: 2^-8 for bf16 (8 significant bits), 2^-11 for fp16 and tf32 (11); 0 for fp32.
double rounding_unit(Precision precision);

constexpr double kSensitivityMultiple = 3.0;

// `fixed` widened to kSensitivityMultiple * `perturbed_max_change` where that is larger; the
// description says which figure applied.
Tolerance widened_by_sensitivity(Tolerance fixed, double perturbed_max_change, Precision precision);

// The largest |a - b| over elements where both are finite (0 when none).
double max_abs_difference(const at::Tensor& a, const at::Tensor& b);

// The largest share of its tolerance any element of `output` uses: max |out - ref| / (atol +
// rtol * |ref|) over finite elements (1 is the limit; 0 when none).
double tolerance_used(const at::Tensor& output, const at::Tensor& reference, const Tolerance& tolerance);

// The root mean square of a tensor's finite elements (0 when none).
double finite_rms(const at::Tensor& t);

// What is wrong with `output` that is not wrong with `reference`, in a sentence naming `what`
// ("output", "gradient of fc.weight"): NaN or Inf where the CPU has none, all zeros, or one
// constant value (the "black image"); nullopt when none of these. `degenerate`: whether to look for
// all-zero and constant values (not for a reference that is itself rounding noise).
std::optional<std::string> output_flags(const at::Tensor& output, const at::Tensor& reference,
                                        const std::string& what, bool degenerate = true);

// A training run's losses, step by step, on the device and on the CPU.
struct CurveVerdict {
  bool passed = true;
  std::string message;  // the flag or the comparison's sentence
};
// Flags, in order: a NaN/Inf loss on the device; a loss that flatlines on the device (falls by
// less than a tenth of what the CPU's falls) while the CPU's falls; a curve that leaves the CPU's
// beyond `tolerance` (the comparison's sentence, with the step).
CurveVerdict judge_training_curve(const std::vector<double>& device, const std::vector<double>& cpu,
                                  const Tolerance& tolerance);

// The CPU's loss curve as a device that skipped some updates should follow it: the loss of step i
// is the CPU's after as many updates as the device applied before step i (`updated`: per device
// step, whether it changed the parameters; fp16 loss scaling skips the steps whose gradients
// overflow, as PyTorch's GradScaler does).
std::vector<double> after_same_updates(const std::vector<double>& cpu, const std::vector<bool>& updated);

// The names of the parameters that a training run left unchanged on the device although they
// changed on the CPU (`before`/`after`: name -> value, on the CPU, float32).
std::vector<std::string> unchanged_parameters(const std::map<std::string, at::Tensor>& device_before,
                                              const std::map<std::string, at::Tensor>& device_after,
                                              const std::map<std::string, at::Tensor>& cpu_before,
                                              const std::map<std::string, at::Tensor>& cpu_after);

// Greedy tokens of the device against the CPU's. They must be equal, except that a step whose
// top-2 logit margin on the CPU is at most `margin_tolerance` may pick either token, and the rest
// is not compared (a tie broken the other way changes the continuation legitimately). Flags NaN
// margins (NaN logits) and a run of 4 or more of token 0 that the CPU does not have (GPT-2's "!!!!").
struct GenerationVerdict {
  bool passed = true;
  int64_t compared = 0;        // tokens compared
  int64_t first_mismatch = -1; // the first token that differs where it must not
  std::string message;
};
GenerationVerdict judge_generation(const Generation& device, const Generation& cpu, double margin_tolerance);

// The longest run of `token` in `tokens`.
int64_t longest_run(const std::vector<int64_t>& tokens, int64_t token);

}  // namespace mlspeed::verify
