// Greedy generation that stops where a chat model ends its answer, as llama.cpp's generation loop
// does: the prompt in one forward (prompt processing), then one decode step a token (the model's
// decode_step, as `run`'s tg rows: on CUDA the fused kernels of a quantised model), the argmax
// read on the host after each step to see whether it is an end-of-generation token (EOS). That
// read is one host synchronisation a token, as in llama.cpp, llama-cpp-python and any chat
// application: these tokens/s are what an application sees, not `run`'s tg rows (which never
// leave the device and replay CUDA graphs). Measured on an H100 with Llama-2-7B Q4_0 when a token
// took one forward(): 120-195 tokens/s against tg128's 381
// (results/2026-12-05-h100-gguf-fused/).
//
// The first token's time closes when it is known on the host (prompt processing); the rest of
// the generation is every later step. Ctrl-C (`cancel` set) stops it between two tokens.
#pragma once

#include <c10/core/Device.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "mlspeed/models/llama.h"
#include "mlspeed/workloads/generation.h"

namespace mlspeed {

struct StoppingGeneration {
  Generation generation;        // the tokens include the end-of-generation token that ended it
  bool ended_by_token = false;  // an end-of-generation token ended it (else max_new_tokens did)
  bool cancelled = false;       // `cancel` stopped it; the generation is incomplete
};

// Up to `max_new_tokens` (at least 1) after `prompt` (ids of the model's vocabulary, prompt +
// max_new_tokens within its positions: the caller checks), stopping after a token for which
// `ends` is true. `cancel` may be null.
StoppingGeneration greedy_until_end(llama::LlamaForCausalLM& model, const c10::Device& device,
                                    const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                    const std::function<bool(int64_t)>& ends, const std::atomic<bool>* cancel);

}  // namespace mlspeed
