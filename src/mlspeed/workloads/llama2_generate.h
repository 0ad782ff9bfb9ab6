// llama2-7b-generate (mac-ml-speed-test's list; llama.cpp's llama-bench): the Llama-2-7B architecture timed as
// llama-bench times a model, prompt processing and text generation as separate rows, in
// tokens/s, with a KV cache:
//   * pp (shape {batch, seq = p, new_tokens = 0}): one forward of a p-token prompt into an empty
//     cache, logits of the last position only (llama.cpp computes only what it needs);
//   * tg (shape {batch, seq = 0, new_tokens = n}): n single-token decode steps from an empty
//     cache (llama-bench's tg test), each feeding the argmax of the previous one, on the device,
//     with no host synchronisation;
//   * either at a depth d (llama-bench's -d, "tg128 @ d4096"): prepare() fills the cache's first
//     d positions once with a context of random tokens, untimed, and every step starts from it.
//
// With CUDA graphs (GraphScope::tokens) the step is replayed from graphs recorded after the
// warm-up: pp is one graph (the prompt pass); tg is a first graph (the start token at position
// 0, which also sets the cache's device position to 1 and writes the first token) and one decode
// step at the cache's device position (LlamaForCausalLMImpl::decode_step), replayed
// new_tokens - 1 times, reading and writing static buffers: the last token (the next input) and
// the output, whose column follows the device position.
//
// Sizes: tiny (tests), small (~134M, GPT-2-small-like widths), medium (TinyLlama-1.1B's shape,
// which also loads TinyLlama's weights), full (Llama-2-7B, 6,738,415,616 parameters).
//
// Random weights: tiny and small are initialised on the CPU from the seed and then moved, so
// they are identical on every device. medium and full are created directly on the device in
// the inference dtype and filled by that device's generator seeded with the seed (a 7B model
// built in float32 on the host would take 27 GB): their random weights therefore depend on the
// device type (CPU and CUDA generators differ) and the dtype.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mlspeed/core/precision.h"
#include "mlspeed/models/kv_cache.h"
#include "mlspeed/models/llama.h"
#include "mlspeed/workloads/generation.h"
#include "mlspeed/workloads/token_graphs.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

std::unique_ptr<Workload> make_llama2_generate();

namespace llama {

// The model configuration of a size ("tiny", "small", "medium", "full"); throws
// std::invalid_argument for any other name.
LlamaConfig generate_config(const std::string& size);

// Whether this LibTorch runs the model's ops in float16 on the CPU (1.13 has no float16 matrix
// product there); probed once on a miniature model.
bool cpu_runs_float16();

// The longest prompt pass that fills a context (Shape::depth): llama-bench's default batch, -b 2048,
// which bounds the activations of a long context.
inline constexpr int64_t kContextFillChunk = 2048;

class GenerateSession : public Session, public Generator {
 public:
  // `init_on_device`: create the parameters on `device` in the inference dtype and fill them
  // from the device's generator; otherwise build in float32 on the CPU from a CPU generator and
  // move and cast. `random_init` false leaves them uninitialised (real weights follow).
  // Refuses fp16 on a CPU that cannot run it (c10::NotImplementedError: status unsupported).
  // `weights`: the matrices stored in that format (models/llama.h), always built on `device`.
  GenerateSession(const LlamaConfig& config, const c10::Device& device, Precision precision, uint64_t seed,
                  bool init_on_device, bool random_init, std::optional<ModelFormat> weights = std::nullopt);
  // A model already built on `device` in the precision's dtype (read from a GGUF file).
  GenerateSession(LlamaForCausalLM model, const c10::Device& device, Precision precision, uint64_t seed);

  // Random prompt tokens (pp) or start tokens (tg) on the CPU from the seed, moved here; the KV
  // cache of batch x (depth + seq + new_tokens) positions is allocated here (the previous one
  // freed) and its first depth positions filled with a random context.
  void prepare(const Shape& shape) override;
  // A pp or tg step under c10::InferenceMode; no host synchronisation. Eager, or the replay of
  // the graphs once record_graphs() has recorded them.
  void step() override;
  GraphSupport graph_support() const override { return {GraphScope::tokens, ""}; }
  void record_graphs(GraphRecorder& recorder) override;
  void drop_graphs() override;

  Generator* generator() override { return this; }
  torch::nn::Module& model() override { return *model_; }
  // pp: the last position's logits (batch, vocab); tg: the generated tokens (batch, new_tokens).
  at::Tensor last_output() const override { return output_; }
  // The logits of every position of the prompt (pp) or of the start token (tg), (batch, T,
  // vocab), without the cache. The fused projections take no gradient (their weights are plain
  // tensors the parameters are views of), so this first gives the parameters separate storage
  // again: the model then runs the separate products, step() included, as after a move (and
  // recorded graphs, which read the fused weights, are dropped).
  at::Tensor forward() override;

  // Generator
  int64_t vocab_size() const override { return model_->config().vocab_size; }
  int64_t max_positions() const override { return model_->config().max_position_embeddings; }
  Generation greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) override;

  LlamaForCausalLM& llama_model() { return model_; }
  const KVCache& cache() const { return cache_; }
  at::ScalarType dtype() const { return dtype_; }

 private:
  // The cache's first shape_.depth positions from random tokens, a prompt pass at a time.
  void fill_context(at::Generator& generator);
  // What the graphs record (static shapes, static tensors, no host read of a device value).
  void prompt_pass();   // pp: the logits; tg: the first token, the device position set to depth + 1
  void decode_token();  // tg: one more token at the device position

  c10::Device device_;
  at::ScalarType dtype_;
  uint64_t seed_;
  LlamaForCausalLM model_{nullptr};
  Shape shape_;
  at::Tensor prompt_;  // pp: (batch, seq)
  at::Tensor start_;   // tg: (batch, 1)
  KVCache cache_;
  at::Tensor output_;
  at::Tensor tokens_;  // tg with graphs: (batch, new_tokens), the output
  at::Tensor next_;    // tg with graphs: (batch, 1), the last token, the next decode step's input
  TokenGraphs graphs_;  // with CUDA graphs: the prompt pass and one decode step
};

}  // namespace llama
}  // namespace mlspeed
