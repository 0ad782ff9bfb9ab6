// The model level's check of GPT-2's decode step (models/gpt2.h's decode_step: the step
// gpt2-generate's generation replays; on CUDA, the fused kernels of fused/decode_kernels.h), on
// a GPT-2 whose every block matters. The workload's own initialisation (zero biases, LayerNorms
// of gain 1 and shift 0, residual projections of std 0.02 / sqrt(2 n_layer)) makes its blocks add
// almost nothing to the embeddings: a decode step that dropped a bias or added it twice left the
// greedy tokens of the generation check unchanged. Here every weight is drawn from the seed on the
// CPU at a scale that keeps each block's output as large as its input (products' weights of std
// 1 / sqrt(fan-in), biases and norm shifts of std 1/4, norm gains U(0.5, 1.5), embeddings of std
// 1), and copied to the device. A dropped or doubled bias then moves the decode logits by 276 to
// 954 times their fp32 tolerance (seeds 0-5, on the CPU).
//
// Model: 256 wide, 4 heads (head size 64, as GPT-2's), 2 layers, 333 tokens; batch 2, a prompt of
// 9 tokens through forward_cached, then one token through decode_step. Row: check gpt2-generate,
// pass decode, the logits of that token against the CPU's float32 model, held to the whole-model
// output tolerance of the precision (model_detectors.h), widened by the model's sensitivity to the
// precision's rounding as every model check is.
#pragma once

#include <functional>

#include "mlspeed/verify/check.h"
#include "mlspeed/verify/model_check_kit.h"

namespace mlspeed::verify {

void gpt2_decode_check(const models::Context& c, const std::function<void(CheckResult)>& emit);

}  // namespace mlspeed::verify
