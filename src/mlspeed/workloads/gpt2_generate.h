// gpt2-generate (the M3 Max review's "!!!!"): GPT-2 small's greedy generation with a KV cache, as Hugging Face's
// `generate(max_new_tokens=16, do_sample=False)` runs it for "The rain in Spain" (4 tokens:
// 464 6290 287 8602) on a machine under suspicion of the `!!!!` bug.
//
// One timed step = prefill of a `seq`-token prompt (which gives the first new token) + the
// remaining new_tokens - 1 tokens decoded one at a time, each the argmax of the last logits fed
// back; batch sequences at once. Everything stays on the device: argmax there, tokens written
// into a preallocated buffer, the KV cache preallocated in prepare(). No host synchronisation:
// the time to the first token is a device event read after the step (last_first_token_ms).
//
// With CUDA graphs (GraphScope::tokens) the step is two graphs recorded after the warm-up: the
// prompt pass (which also sets the cache's device position to seq and writes the first token)
// and one decode step at the cache's device position (GPT2ModelImpl::decode_step), replayed
// new_tokens - 1 times. The tokens live in static buffers the graphs read and write: the last
// token (the next input) and the output, whose column follows the device position.
//
// Inference precision is the model cast to fp16/bf16 (as bert-base-infer), under InferenceMode.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/device/timer.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/models/kv_cache.h"
#include "mlspeed/workloads/generation.h"
#include "mlspeed/workloads/token_graphs.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

std::unique_ptr<Workload> make_gpt2_generate();

namespace gpt2 {

// Greedy decoding of a batch: `prompt` (B,S) fills `cache` (empty, room for S + G - 1
// positions), then each new token is the argmax of the last position's logits and is fed back.
// Writes the G = tokens.size(1) new tokens into `tokens` (B,G, int64) and, when `margins` is
// defined, each step's top-1 minus top-2 logit into it (B,G, float32). `after_first` runs once,
// right after the first new token is written (to time it). No host synchronisation.
void greedy_decode(GPT2ModelImpl& model, KVCache& cache, const at::Tensor& prompt, const at::Tensor& tokens,
                   const at::Tensor& margins, const std::function<void()>& after_first);

// Greedy generation of one sequence from token ids, for `mlspeed generate` and verification.
class GreedyGenerator : public Generator {
 public:
  GreedyGenerator(GPT2Model model, const c10::Device& device) : model_(std::move(model)), device_(device) {}
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t max_positions() const override { return model_->config().n_positions; }
  Generation greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) override;

 private:
  GPT2Model model_;
  c10::Device device_;
};

class GenerationSession : public Session {
 public:
  // Seeds the global generator, builds the model on the CPU (the same weights for every
  // device), puts it in eval mode and moves it; for fp16/bf16 the weights are cast to that dtype.
  // fp32 and tf32 are both float32 (the runner sets TF32).
  GenerationSession(const GPT2Config& config, const c10::Device& device, Precision precision, uint64_t seed);

  // A prompt (shape.batch, shape.seq) of token ids uniform in [0, vocab), drawn on the CPU from
  // the seed and moved to the device; the KV cache and the token buffer (batch, new_tokens) are
  // allocated here, once.
  void prepare(const Shape& shape) override;
  // One generation (see the top of this file), under c10::InferenceMode: eager, or the replay
  // of the graphs once record_graphs() has recorded them.
  void step() override;
  // From the step's start to the first new token written, by a device timer (CUDA events
  // recorded in the step, read here: the runner calls this after waiting for the step).
  std::optional<double> last_first_token_ms() const override;
  GraphSupport graph_support() const override { return {GraphScope::tokens, ""}; }
  void record_graphs(GraphRecorder& recorder) override;
  void drop_graphs() override;
  Generator* generator() override { return &generator_; }

  GPT2Model& gpt2() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  at::Tensor last_output() const override { return tokens_; }  // (batch, new_tokens) int64
  // The logits of every position of the prompt (batch, seq, vocab), without the cache.
  at::Tensor forward() override;
  const at::Tensor& prompt() const { return prompt_; }

 private:
  // What the graphs record (static shapes, static tensors, no host read of a device value).
  void prompt_pass();   // the first token, the device position set to seq
  void decode_token();  // one more token at the device position

  c10::Device device_;
  uint64_t seed_;
  GPT2Model model_{nullptr};
  GreedyGenerator generator_;
  std::unique_ptr<Timer> first_token_timer_;
  bool first_token_timed_ = false;
  KVCache cache_;
  at::Tensor prompt_;  // (batch, seq)
  at::Tensor tokens_;  // (batch, new_tokens)
  at::Tensor next_;    // (batch, 1): the last token, the next decode step's input
  TokenGraphs graphs_;  // with CUDA graphs: the prompt pass and one decode step
};

}  // namespace gpt2
}  // namespace mlspeed
