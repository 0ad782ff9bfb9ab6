#include "mlspeed/workloads/llama2_generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/InferenceMode.h>
#include <torch/version.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "mlspeed/device/timer.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace llama {
namespace {

constexpr const char* kName = "llama2-7b-generate";

// The device's default generator, cloned and seeded: the device's own random stream, without
// touching the global one.
at::Generator seeded_device_generator(const c10::Device& device, uint64_t seed) {
  at::Generator global = at::globalContext().defaultGenerator(device);  // shares the impl
  at::Generator generator;
  {
    std::lock_guard<std::mutex> lock(global.mutex());
    generator = global.clone();
  }
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  return generator;
}

LlamaForCausalLM build_model(const LlamaConfig& config, const c10::Device& device, at::ScalarType dtype,
                             uint64_t seed, bool init_on_device, bool random_init, std::optional<ModelFormat> weights) {
  // Stored blocks are made where they run: casting a model would cast them too.
  if (init_on_device || weights) {
    LlamaForCausalLM model(config, at::TensorOptions().device(device).dtype(dtype), StoredWeights{weights, 1, {}});
    if (random_init) model->init_weights(seeded_device_generator(device, seed));
    return model;
  }
  LlamaForCausalLM model(config, at::TensorOptions(at::kFloat));
  if (random_init) model->init_weights(at::make_generator<at::CPUGeneratorImpl>(seed));
  model->to(device, dtype);
  return model;
}

}  // namespace

LlamaConfig generate_config(const std::string& size) {
  LlamaConfig c;  // full: Llama-2-7B
  if (size == "full") return c;
  if (size == "medium") {  // TinyLlama-1.1B (TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T)
    c.hidden_size = 2048;
    c.intermediate_size = 5632;
    c.num_hidden_layers = 22;
    c.num_attention_heads = 32;
    c.num_key_value_heads = 4;
    return c;  // max_position_embeddings 4096 (TinyLlama trained at 2048; the shape is the same)
  }
  if (size == "small") {
    c.hidden_size = 768;
    c.intermediate_size = 2048;
    c.num_hidden_layers = 12;
    c.num_attention_heads = 12;
    c.num_key_value_heads = 12;
    c.max_position_embeddings = 2048;
    return c;
  }
  if (size == "tiny") {  // grouped-query attention (2 kv heads for 4) so that tests cover it
    c.vocab_size = 256;
    c.hidden_size = 32;
    c.intermediate_size = 64;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.max_position_embeddings = 64;
    return c;
  }
  throw_unknown_size(kName, size);
}

bool cpu_runs_float16() {
  static const bool runs = [] {
    try {
      LlamaConfig c;
      c.vocab_size = 16;
      c.hidden_size = 8;
      c.intermediate_size = 16;
      c.num_hidden_layers = 1;
      c.num_attention_heads = 2;
      c.num_key_value_heads = 1;
      c.max_position_embeddings = 8;
      LlamaForCausalLM model(c, at::TensorOptions(at::kHalf));
      model->init_weights(at::make_generator<at::CPUGeneratorImpl>(0));
      c10::InferenceMode inference;
      KVCache cache = model->make_cache(1, 4);
      const at::Tensor ids = at::zeros({1, 3}, at::kLong);
      model->forward(ids, &cache, true).argmax(-1);
      model->forward(ids.narrow(1, 0, 1), &cache, true).argmax(-1);
      return true;
    } catch (const c10::Error&) {
      return false;
    }
  }();
  return runs;
}

GenerateSession::GenerateSession(const LlamaConfig& config, const c10::Device& device, Precision precision,
                                 uint64_t seed, bool init_on_device, bool random_init,
                                 std::optional<ModelFormat> weights)
    : device_(device), dtype_(model_dtype(precision)), seed_(seed) {
  TORCH_CHECK_NOT_IMPLEMENTED(!(device.is_cpu() && dtype_ == at::kHalf) || cpu_runs_float16(), "[", kName,
                              "] fp16 on the CPU: LibTorch " TORCH_VERSION
                              " has no float16 CPU kernels for this model's ops (matrix products); "
                              "use bf16 or fp32 on the CPU");
  model_ = build_model(config, device, dtype_, seed, init_on_device, random_init, weights);
  model_->fuse_projections();  // after the move: weights loaded later are copied into place
  model_->eval();
}

GenerateSession::GenerateSession(LlamaForCausalLM model, const c10::Device& device, Precision precision,
                                 uint64_t seed)
    : device_(device), dtype_(model_dtype(precision)), seed_(seed), model_(std::move(model)) {
  model_->fuse_projections();
  model_->eval();
}

void GenerateSession::prepare(const Shape& shape) {
  const LlamaConfig& c = model_->config();
  TORCH_CHECK(shape.batch >= 1 && shape.seq >= 0 && shape.new_tokens >= 0 && shape.depth >= 0 &&
                  (shape.seq > 0) != (shape.new_tokens > 0),
              "[", kName, "] a step is prompt processing (seq > 0, new_tokens 0) or generation (seq 0, ",
              "new_tokens > 0) of batch >= 1 at a depth >= 0; got batch ", shape.batch, " seq ", shape.seq,
              " new_tokens ", shape.new_tokens, " depth ", shape.depth);
  const int64_t length = shape.depth + shape.seq + shape.new_tokens;
  TORCH_CHECK(length <= c.max_position_embeddings, "[", kName, "] ", length, " positions exceed the model's ",
              c.max_position_embeddings);
  drop_graphs();       // they read and write the previous shape's buffers
  cache_ = KVCache();  // free the previous shape's cache before allocating this one
  prompt_ = start_ = output_ = tokens_ = next_ = at::Tensor();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  if (shape.seq > 0) {
    prompt_ = at::randint(c.vocab_size, {shape.batch, shape.seq}, generator, at::kLong).to(device_);
  } else {
    start_ = at::randint(c.vocab_size, {shape.batch, 1}, generator, at::kLong).to(device_);
    tokens_ = at::zeros({shape.batch, shape.new_tokens}, start_.options());
    next_ = at::zeros({shape.batch, 1}, start_.options());
  }
  cache_ = model_->make_cache(shape.batch, length);
  shape_ = shape;
  fill_context(generator);
}

void GenerateSession::fill_context(at::Generator& generator) {
  c10::InferenceMode inference;
  for (int64_t filled = 0; filled < shape_.depth; filled += kContextFillChunk) {
    const int64_t n = std::min(kContextFillChunk, shape_.depth - filled);
    const at::Tensor context = at::randint(model_->config().vocab_size, {shape_.batch, n}, generator, at::kLong);
    model_->forward(context.to(device_), &cache_, /*last_only=*/true);
  }
}

at::Tensor GenerateSession::forward() {
  TORCH_CHECK(cache_.defined(), "[", kName, "] forward() before prepare()");
  drop_graphs();
  for (at::Tensor& p : model_->parameters()) p.set_data(p.data().clone());
  return model_->forward(shape_.seq > 0 ? prompt_ : start_);
}

void GenerateSession::step() {
  TORCH_CHECK(cache_.defined(), "[", kName, "] step() before prepare()");
  c10::InferenceMode inference;
  if (graphs_.recorded()) {
    graphs_.replay(std::max<int64_t>(shape_.new_tokens - 1, 0));  // output_ is the recording's: replays rewrite it
    return;
  }
  // The work the graphs record, run eagerly: decode_step may take fused kernels that round
  // differently from forward(), and an eager step must produce what its replays produce.
  prompt_pass();
  if (shape_.seq > 0) return;
  for (int64_t i = 1; i < shape_.new_tokens; ++i) decode_token();
  cache_.advance(shape_.new_tokens - 1);  // the host's count of the positions the device position filled
}

void GenerateSession::prompt_pass() {
  cache_.rewind(shape_.depth);  // the positions written are host constants, the same in every replay
  if (shape_.seq > 0) {
    output_ = model_->forward(prompt_, &cache_, /*last_only=*/true).squeeze(1);
    return;
  }
  const at::Tensor logits = model_->forward(start_, &cache_, /*last_only=*/true);  // position depth
  at::argmax_out(next_, logits, -1);  // (batch, 1), as the eager step's argmax
  tokens_.narrow(1, 0, 1).copy_(next_);
  cache_.set_position(shape_.depth + 1);
  output_ = tokens_;
}

void GenerateSession::decode_token() {
  const at::Tensor logits = model_->decode_step(next_, cache_);  // at the device position, then advanced
  at::argmax_out(next_, logits, -1);
  // The token just made sits at the (advanced) device position; token i of the output at depth + 1 + i.
  tokens_.index_copy_(1, cache_.position() - (shape_.depth + 1), next_);
}

void GenerateSession::record_graphs(GraphRecorder& recorder) {
  TORCH_CHECK(cache_.defined(), "[", kName, "] record_graphs() before prepare()");
  c10::InferenceMode inference;
  graphs_.record(recorder, [this] { prompt_pass(); }, [this] { decode_token(); }, shape_.new_tokens > 1);
}

void GenerateSession::drop_graphs() { graphs_.drop(); }

Generation GenerateSession::greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) {
  const int64_t vocab = vocab_size();
  if (prompt.empty()) throw std::invalid_argument(std::string("[") + kName + "] the prompt is empty");
  for (int64_t id : prompt)
    if (id < 0 || id >= vocab)
      throw std::invalid_argument(std::string("[") + kName + "] token id " + std::to_string(id) +
                                  " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  if (new_tokens < 0) throw std::invalid_argument(std::string("[") + kName + "] new_tokens is negative");
  const int64_t length = static_cast<int64_t>(prompt.size()) + new_tokens;
  if (length > max_positions())
    throw std::invalid_argument(std::string("[") + kName + "] a prompt of " + std::to_string(prompt.size()) +
                                " tokens + " + std::to_string(new_tokens) + " new tokens exceed the " +
                                std::to_string(max_positions()) + " positions the model takes");

  c10::InferenceMode inference;
  KVCache cache = model_->make_cache(1, length);
  const at::Tensor ids =
      at::tensor(prompt, at::kLong).view({1, static_cast<int64_t>(prompt.size())}).to(device_);
  std::vector<at::Tensor> tokens, margins;
  // The next token (1, 1) from logits (1, 1, vocab), and its top-1 minus top-2 logit in float32.
  const auto pick = [&](const at::Tensor& logits) {
    const at::Tensor row = logits.reshape({vocab}).to(at::kFloat);
    const at::Tensor top = std::get<0>(row.topk(2));
    margins.push_back(top[0] - top[1]);
    tokens.push_back(row.argmax().view({1, 1}));
    return tokens.back();
  };

  Generation result;
  auto total = make_timer(device_), first = make_timer(device_);
  total->start();
  first->start();
  const at::Tensor prompt_logits = model_->forward(ids, &cache, /*last_only=*/true);
  if (new_tokens == 0) {
    result.first_token_ms = first->stop_ms();
    result.total_ms = total->stop_ms();
    return result;
  }
  at::Tensor token = pick(prompt_logits);
  first->stop();  // read at the end: no synchronisation between the first token and the others
  // The new tokens through decode_step, as the timed tg rows: on CUDA the fused kernels, about
  // half the launches of forward() for one token (an eager token is bound by its launches).
  cache.set_position(cache.length());
  for (int64_t i = 1; i < new_tokens; ++i) token = pick(model_->decode_step(token, cache));
  const at::Tensor all_tokens = at::cat(tokens, 1).reshape({new_tokens}).cpu();
  const at::Tensor all_margins = at::stack(margins).to(at::kDouble).cpu();
  result.total_ms = total->stop_ms();
  result.first_token_ms = first->elapsed_ms();
  const int64_t* t = all_tokens.data_ptr<int64_t>();
  const double* m = all_margins.data_ptr<double>();
  result.tokens.assign(t, t + new_tokens);
  result.top2_margins.assign(m, m + new_tokens);
  return result;
}

}  // namespace llama

namespace {

using llama::LlamaConfig;

std::string summary_of(const LlamaConfig& c) {
  std::string s = std::to_string(c.num_hidden_layers) + " layers, " + std::to_string(c.num_attention_heads) +
                  " heads";
  if (c.num_key_value_heads != c.num_attention_heads) s += " (" + std::to_string(c.num_key_value_heads) + " kv)";
  return s + ", " + std::to_string(c.hidden_size) + " wide, ffn " + std::to_string(c.intermediate_size) +
         ", vocab " + std::to_string(c.vocab_size);
}

ModelFacts llama2_facts(const std::string& size) {
  const LlamaConfig c = llama::generate_config(size);
  return {summary_of(c), llama::count_params(c),  // every parameter, embedding and lm_head included
          c.max_position_embeddings};
}

class Llama2Generate : public WorkloadBase {
 public:
  // llama-bench's pp512 and tg128 (pp16 and tg8 at the tiny size).
  Llama2Generate()
      : WorkloadBase({llama::kName,
                      "Llama-2-7B architecture as llama-bench times it: prompt processing (pp: the prompt into an "
                      "empty KV cache) and text generation (tg: greedy, one token at a time) as separate rows "
                      "(llama.cpp's llama-bench pp512 / tg128)",
                      Job::infer, "tokens"},
                     {{"tiny", {1}, {16}, {8}},
                      {"small", {1}, {512}, {128}},
                      {"medium", {1}, {512}, {128}},
                      {"full", {1}, {512}, {128}}},
                     llama2_facts) {}

  std::vector<ModelFormat> weight_formats() const override {
    return {kAllModelFormats.begin(), kAllModelFormats.end()};
  }
  bool takes_depth() const override { return true; }

  // As a GGUF file of this layout in the weights' format would be described (llama_gguf.h).
  std::optional<StoredModel> stored_model(const std::string& size, const Numerics& numerics) const override {
    const LlamaConfig c = llama::generate_config(size);
    const ModelFormat format = weight_format(numerics, Job::infer);
    return StoredModel{llama::model_label(c, llama::count_params(c), format),
                       static_cast<int64_t>(llama::weight_bytes(c, bytes_per_element(numerics.precision),
                                                                {numerics.weights, 1, {}}))};
  }

  double items_per_step(const Shape& shape) const override {
    return double(shape.batch) * double(shape.seq + shape.new_tokens);
  }

  // See models/llama.h: 2 N_body + lm_head where logits are computed + 4 L h context.
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    if ((shape.seq > 0) == (shape.new_tokens > 0)) return 0;  // neither pp nor tg
    return llama::inference_flops_per_token(llama::generate_config(size), shape.seq, shape.new_tokens, shape.depth);
  }

  // llama-bench's tests: one pp row per prompt length, one tg row per generation length.
  std::vector<Shape> shapes(const WorkloadSize& size, const ShapeRequest& request) const override {
    return llama_bench_shapes(size, request);
  }

  // tg rows are bound by memory: the weights and the cache one token reads (see
  // llama::decode_bytes_per_token); pp rows are compute-bound (0: no roofline).
  double bytes_per_item(const std::string& size, const Shape& shape, const Numerics& numerics) const override {
    if (shape.seq > 0 || shape.new_tokens < 1) return 0.0;
    return llama::decode_bytes_per_token(llama::generate_config(size), shape.new_tokens, shape.batch,
                                         bytes_per_element(numerics.precision), {numerics.weights, 1, {}},
                                         shape.depth);
  }

  // Weights exactly; the KV cache of the step (2 L batch kv_heads head_dim (depth + seq + new_tokens),
  // the positions rounded up as the cache allocates them);
  // activations roughly and low: the residual stream and its normed copy, the MLP's gate and up
  // of the positions in flight, and the logits of the last position.
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const LlamaConfig c = llama::generate_config(size);
    const int64_t bytes = bytes_per_element(precision);
    const int64_t length = shape.depth + shape.seq + shape.new_tokens;
    // The context is filled by prompt passes of up to kContextFillChunk positions.
    const int64_t in_flight =
        shape.batch * std::max<int64_t>({shape.seq, std::min(shape.depth, llama::kContextFillChunk), 1});
    MemoryEstimate m;
    m.model = static_cast<int64_t>(llama::weight_bytes(c, bytes, {numerics.weights, 1, {}}));
    m.per_step = 2 * c.num_hidden_layers * shape.batch * c.num_key_value_heads * c.head_dim() *
                     KVCache::capacity_for(length) * bytes +
                 in_flight * (2 * c.hidden_size + 2 * c.intermediate_size) * bytes +
                 shape.batch * c.vocab_size * bytes;
    return m;
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const bool on_device = size == "medium" || size == "full";  // too big to build on the host first
    const bool random = options.weights.empty();
    TORCH_CHECK_NOT_IMPLEMENTED(random || !numerics.weights, "[", llama::kName,
                                "] --weights with --weight-format: a safetensors checkpoint loads in its own dtype; "
                                "write it as a GGUF file in that format (mlspeed quantize CHECKPOINT_FOLDER OUT.gguf --type q4_0) and "
                                "time the file with --model");
    auto session = std::make_unique<llama::GenerateSession>(llama::generate_config(size), device, numerics.precision,
                                                            options.seed, on_device, random, numerics.weights);
    // Hugging Face Llama checkpoints (Llama-2-*-hf, TinyLlama) load by name; older ones also
    // saved each layer's rotary inv_freq, which is computed here.
    if (!random) load_weights(session->model(), options.weights, WeightsOptions{{"rotary_emb.inv_freq"}, {}, "", {}, {}});
    return session;
  }
};

}  // namespace

std::unique_ptr<Workload> make_llama2_generate() { return std::make_unique<Llama2Generate>(); }

}  // namespace mlspeed
