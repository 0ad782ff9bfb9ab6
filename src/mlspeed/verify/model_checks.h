// Model-level verification: for each workload of the catalogue, at a size that fits the device,
// the forward output, every gradient, a short training run (same seed, same batch) and, for the
// generation workloads, greedy tokens — all against the same workload on the CPU.
//
// Flags: NaN/Inf anywhere; an all-zero or constant output (the "black image"); a loss that
// flatlines on the device while it falls on the CPU; a parameter update of zero; a loss curve
// that leaves the CPU's beyond tolerance; greedy tokens that differ from the CPU's (except after
// a step whose top-2 logit margin is within tolerance); repeated token 0 (GPT-2's "!!!!").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/core/weight_format.h"
#include "mlspeed/verify/check.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {

struct ModelCheckOptions {
  std::vector<std::string> workloads;  // empty: the whole catalogue
  std::string size = "tiny";           // the workload size checked (CPU-initialised weights, same on every device)
  std::vector<Precision> precisions{Precision::fp32};
  uint64_t seed = 0;
  int64_t training_steps = 20;         // at least 20
  std::string weights;                 // a safetensors file for one generation workload ("The rain in Spain" text check)
  std::string vocab;                   // GPT-2's encoder.json + vocab.bpe folder, with `weights`
  // The quantised file types of the quantised-Llama check (quant_model_check.h), run with
  // llama2-7b-generate; empty: none.
  std::vector<ModelFormat> weight_formats{ModelFormat::q8_0, ModelFormat::q4_0, ModelFormat::q4_k_m,
                                          ModelFormat::q6_k};
};

// Throws UsageError for an unknown workload or size, too few steps, weights without a vocabulary,
// or a weight format that is not quantised.
void validate(const ModelCheckOptions& options);

std::vector<CheckResult> run_model_checks(const Target& target, const ModelCheckOptions& options,
                                          const std::function<void(const CheckResult&)>& on_row);

}  // namespace mlspeed::verify
