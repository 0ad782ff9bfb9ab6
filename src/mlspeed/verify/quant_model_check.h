// The model level's check of a quantised model: Llama (models/llama.h, the model
// llama2-7b-generate runs) with its matrices stored in one of llama.cpp's file types
// (--weight-format: q8_0, q4_0, q4_k_m, q6_k; each tensor in the format llama.cpp's quantiser
// gives its role), on the device, against the dense float32 model of the same weights on the CPU
// (every stored matrix decoded by blocks.h's scalar reference): the quantised products are
// checked against dequantise-then-matmul, in a whole model.
//
// The model is sized for the check, not one of the workload's sizes: 256 wide with a 768-wide MLP
// (3 K-quant super-blocks, so that Q4_K and Q6_K are used where the tiny size falls back to Q4_0
// and Q8_0), 2 layers, 4 heads over 2 key/value heads, 333 tokens. Its blocks are made on the CPU
// from the seed (quant::fill_random, as the workload's) and copied to the device, so both sides
// hold the same bytes on any device; its attention norms' gains are 4, so that the attention
// depends on where each key sits (a bug of the KV cache's positions shows in the decode pass).
// Rows: check llama2-7b-generate, variant the weight format, dtype the precision, two passes:
//   forward  the logits of a prompt of batch 2 x 9 tokens: 18 input rows a product, the
//            dequantise + matmul path. The dequantisation is exact, so the fp32 whole-model
//            tolerance applies (model_detectors.h), widened by the model's sensitivity to the
//            precision's rounding as every model check is.
//   decode   the logits of one more token after that prompt, through the KV cache: 2 input
//            rows a product, the int8-activation kernels. Their error (cpu_kernels.h: each input
//            rounded to a step of max|x| / 127 of its run) is a rounding of the activations, so
//            the tolerance is widened as for a precision (model_detectors.h's sensitivity rule):
//            kSensitivityMultiple times the change of the dense reference with every matrix
//            perturbed by (1 + u N(0, 1)), u = 1/127. A product's change from that perturbation
//            has the rms u |W| rms(x); from the rounding, |W| step / sqrt(12) — the same for a
//            run whose max|x| is sqrt(12) = 3.5 times its rms, as for 256 normal values (a
//            K-quant run; runs of 32 give less). The activations of this random model are such.
//            (Seeds 0-15, every file type, on the CPU: at most 0.69 of the tolerance used.)
#pragma once

#include <functional>

#include "mlspeed/core/precision.h"
#include "mlspeed/verify/check.h"
#include "mlspeed/verify/model_checks.h"
#include "mlspeed/verify/target.h"

namespace mlspeed::verify {

// The workload whose rows the quantised-model check adds to.
inline constexpr const char* kQuantModelWorkload = "llama2-7b-generate";

// The rows of every weight format of `options` in `precision` (forward and decode each).
void run_quant_model_checks(const Target& target, const ModelCheckOptions& options, Precision precision,
                            const std::function<void(CheckResult)>& emit);

}  // namespace mlspeed::verify
