// The judgement of a model's gradients row (model_checks.h): every parameter's gradient on the
// device against the CPU's float32 one.
//
// Each gradient is first held to the whole-model tolerance element by element (model_tolerance,
// widened by the sensitivity measured at the precision's rounding for bf16, fp16 and tf32). For
// float32 that is not enough where a network has ReLUs and max pooling: its gradients are not
// continuous in the forward pass's rounding. An activation within a unit of rounding of zero is
// passed on one device and cut on another (a max-pool window's winner changes the same way), and
// the gradient flowing back through it appears or vanishes: a step, not a drift; training-mode
// BatchNorm then spreads it over every channel before it. Two healthy devices often disagree on a
// few such decisions: resnet50-food101's tiny fp32 gradients failed the element test at
// seeds 1-3 on healthy H100s (2026-12-06), and on the CPU with every product's and convolution's
// result moved by one unit of rounding (verify's rounding-jitter) at 6 of 12 seeds.
//
// So a float32 gradient that fails element by element, and is not NaN, zeros or missing, gets a
// second look measured on the model itself: the CPU's pass again with every weight multiplied by
// (1 + 2^-16 N(0, 1)) in two draws. 2^-16 is 256 units of float32 rounding, far more than a
// device's, so the draws cross many more such decisions than a device does. The model's
// sensitivity S is the largest relative change those draws make to any parameter's gradient (rms
// of the change over max(rms(gradient), floor)); a parameter passes when its own relative rms
// error is within kSensitivityMultiple x S. The draws run only when some parameter needs them.
//
// Measured on the CPU (resnet50-food101 and -cifar100, tiny, fp32): with every product's and
// convolution's result moved by one unit of rounding, seeds 0-11 passed and used at most 0.11 of
// that allowance (0.36 with 16 units); a BatchNorm backward that treats the batch statistics as
// constants exceeded it 17-fold or more (seeds 0-7).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/verify/compare.h"

namespace mlspeed::verify {

using Gradients = std::map<std::string, at::Tensor>;  // by parameter name, on the CPU

// How far from rounding the second look's weights are moved: 2^-16 of themselves.
constexpr double kKinkPerturbation = 1.0 / 65536;
constexpr int kKinkDraws = 2;

struct GradientVerdict {
  int64_t parameters = 0;
  int64_t failing = 0;  // parameters failed, after the second look
  // The failing parameter with most elements off, else the passing one closest to failing; its
  // comparison (a second look's pass shows there as its share of that allowance).
  std::optional<Comparison> worst;
  std::string worst_name;
  std::string flag;  // NaN, zeros or a missing gradient, in a sentence; empty when none
  // The second look, when it ran: S, and the parameters that passed only by it.
  std::optional<double> sensitivity;
  int64_t within_sensitivity = 0;

  bool passed() const { return failing == 0 && flag.empty() && worst.has_value(); }
  // The row's sentence: the flag, the worst failing parameter, or what matched and how.
  std::string message() const;
};

// `perturbed`: the CPU's pass at the precision's own rounding (bf16, fp16, tf32), for the
// element tolerance's widening; null for float32. `kink_draws` returns the second look's
// gradients (the CPU's float32 pass with perturbed weights, kKinkDraws draws); it is called at
// most once, and only for float32 when a parameter fails element by element without a flag.
GradientVerdict judge_gradients(const Gradients& device, const Gradients& cpu, Precision precision,
                                const Gradients* perturbed,
                                const std::function<std::vector<Gradients>()>& kink_draws);

}  // namespace mlspeed::verify
