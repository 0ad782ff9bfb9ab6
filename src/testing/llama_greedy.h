// Greedy continuation of a Llama computed the slow way: a full forward over the whole sequence for
// every new token, no cache. The reference the cached generation paths are held to
// (llama2_generate_cpu_test.cpp, stopping_greedy_cpu_test.cpp).
#pragma once

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstdint>
#include <vector>

#include "mlspeed/models/llama.h"

namespace mlspeed::testing {

inline std::vector<int64_t> llama_greedy_without_cache(llama::LlamaForCausalLM& model, std::vector<int64_t> ids,
                                                       int64_t n) {
  c10::InferenceMode inference;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor input = at::tensor(ids, at::kLong).view({1, static_cast<int64_t>(ids.size())});
    out.push_back(model->forward(input).select(1, -1).argmax(-1).item<int64_t>());
    ids.push_back(out.back());
  }
  return out;
}

}  // namespace mlspeed::testing
