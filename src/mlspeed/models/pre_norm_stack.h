// GPT-2's and nanoGPT's blocks as fused::PreNormBlocks (fused/residual_layer_norm.h): each block's
// ln_1, attn, ln_2 and mlp, and ln_f, with `parameters` giving a norm module's weight, bias and
// eps. The two models' modules differ in type (nanoGPT's LayerNorm may have no bias), not in shape.
// The stack refers to `blocks`: use it while they live.
#pragma once

#include <ATen/ATen.h>

#include <cstddef>
#include <vector>

#include "mlspeed/fused/residual_layer_norm.h"

namespace mlspeed {

template <typename Block, typename Norm, typename Parameters>
fused::PreNormBlocks pre_norm_stack(std::vector<Block>& blocks, const Norm& ln_f, Parameters parameters) {
  fused::PreNormBlocks stack;
  stack.count = blocks.size();
  stack.ln_1 = [&blocks, parameters](size_t i) { return parameters(*blocks[i]->ln_1); };
  stack.ln_2 = [&blocks, parameters](size_t i) { return parameters(*blocks[i]->ln_2); };
  stack.ln_f = parameters(*ln_f);
  stack.attn = [&blocks](size_t i, const at::Tensor& normed) { return blocks[i]->attn(normed); };
  stack.mlp = [&blocks](size_t i, const at::Tensor& normed) { return blocks[i]->mlp(normed); };
  return stack;
}

}  // namespace mlspeed
