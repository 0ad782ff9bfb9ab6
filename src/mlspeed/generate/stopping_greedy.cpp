#include "mlspeed/generate/stopping_greedy.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "mlspeed/device/timer.h"
#include "mlspeed/models/kv_cache.h"

namespace mlspeed {

StoppingGeneration greedy_until_end(llama::LlamaForCausalLM& model, const c10::Device& device,
                                    const std::vector<int64_t>& prompt, int64_t max_new_tokens,
                                    const std::function<bool(int64_t)>& ends, const std::atomic<bool>* cancel) {
  const int64_t vocab = model->config().vocab_size;
  c10::InferenceMode inference;
  KVCache cache = model->make_cache(1, static_cast<int64_t>(prompt.size()) + max_new_tokens);
  StoppingGeneration out;
  std::vector<at::Tensor> margins;  // kept on the device: only the token is read each step
  // The next token from logits (1, 1, vocab), read on the host, and its top-2 margin.
  const auto pick = [&](const at::Tensor& logits) {
    const at::Tensor row = logits.reshape({vocab}).to(at::kFloat);
    const at::Tensor top = std::get<0>(row.topk(2));
    margins.push_back(top[0] - top[1]);
    out.generation.tokens.push_back(row.argmax().item<int64_t>());
    return out.generation.tokens.back();
  };

  auto total = make_timer(device), first = make_timer(device);
  total->start();
  first->start();
  const at::Tensor ids = at::tensor(prompt, at::kLong).view({1, static_cast<int64_t>(prompt.size())}).to(device);
  int64_t token = pick(model->forward(ids, &cache, /*last_only=*/true));
  out.generation.first_token_ms = first->stop_ms();
  cache.set_position(cache.length());  // decode_step writes at the device position
  while (true) {
    out.ended_by_token = ends(token);
    if (out.ended_by_token || int64_t(out.generation.tokens.size()) >= max_new_tokens) break;
    if (cancel && cancel->load()) {
      out.cancelled = true;
      break;
    }
    const at::Tensor next = at::full({1, 1}, token, at::TensorOptions(at::kLong)).to(device);
    token = pick(model->decode_step(next, cache));
  }
  out.generation.total_ms = total->stop_ms();
  const at::Tensor all_margins = at::stack(margins).to(at::kDouble).cpu();
  out.generation.top2_margins.assign(all_margins.data_ptr<double>(), all_margins.data_ptr<double>() + margins.size());
  return out;
}

}  // namespace mlspeed
