#include "mlspeed/workloads/gpt2_generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/gpt2_train.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace gpt2 {
namespace {

constexpr const char* kGenerateName = "gpt2-generate";

}  // namespace

void greedy_decode(GPT2ModelImpl& model, KVCache& cache, const at::Tensor& prompt, const at::Tensor& tokens,
                   const at::Tensor& margins, const std::function<void()>& after_first) {
  at::Tensor input = prompt;  // the prompt first, then the last new token, (B, 1)
  for (int64_t i = 0; i < tokens.size(1); ++i) {
    const at::Tensor logits = model.forward_cached(input, cache);  // (B, vocab), last position
    const at::Tensor next = logits.argmax(-1);                     // the first maximum, as torch.argmax
    tokens.select(1, i).copy_(next);
    if (margins.defined()) {
      const at::Tensor top2 = std::get<0>(logits.to(at::kFloat).topk(2, -1));
      margins.select(1, i).copy_(top2.select(1, 0) - top2.select(1, 1));
    }
    if (i == 0 && after_first) after_first();
    input = next.unsqueeze(1);
  }
}

Generation GreedyGenerator::greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) {
  const GPT2Config& c = model_->config();
  if (prompt.empty()) throw std::invalid_argument("[gpt2] greedy generation needs a prompt of at least one token");
  if (new_tokens < 1) throw std::invalid_argument("[gpt2] greedy generation needs at least one new token");
  for (int64_t id : prompt)
    if (id < 0 || id >= c.vocab_size)
      throw std::invalid_argument("[gpt2] token id " + std::to_string(id) + " is outside the vocabulary (0 to " +
                                  std::to_string(c.vocab_size - 1) + ")");
  const int64_t length = static_cast<int64_t>(prompt.size()) + new_tokens;
  if (length > c.n_positions)
    throw std::invalid_argument("[gpt2] " + std::to_string(prompt.size()) + " prompt tokens + " +
                                std::to_string(new_tokens) + " new tokens exceed the model's " +
                                std::to_string(c.n_positions) + " positions");

  c10::InferenceMode inference;
  const at::Tensor ids = at::tensor(prompt, at::kLong).unsqueeze(0).to(device_);
  KVCache cache = model_->make_cache(1, length);
  const at::Tensor tokens = at::empty({1, new_tokens}, ids.options());
  const at::Tensor margins = at::empty({1, new_tokens}, ids.options().dtype(at::kFloat));
  Generation g;
  auto total = make_timer(device_), first = make_timer(device_);
  total->start();
  first->start();
  greedy_decode(*model_, cache, ids, tokens, margins, [&] { first->stop(); });
  g.total_ms = total->stop_ms();
  g.first_token_ms = first->elapsed_ms();

  const at::Tensor host_tokens = tokens.to(at::kCPU).contiguous();
  const at::Tensor host_margins = margins.to(at::kCPU, at::kDouble).contiguous();
  g.tokens.assign(host_tokens.data_ptr<int64_t>(), host_tokens.data_ptr<int64_t>() + new_tokens);
  g.top2_margins.assign(host_margins.data_ptr<double>(), host_margins.data_ptr<double>() + new_tokens);
  return g;
}

GenerationSession::GenerationSession(const GPT2Config& config, const c10::Device& device, Precision precision,
                                     uint64_t seed)
    : device_(device),
      seed_(seed),
      model_(build_on_cpu<GPT2Model>(config, seed)),
      generator_(model_, device),
      first_token_timer_(make_timer(device)) {
  model_->eval();
  move_for_inference(*model_, device, precision);
}

void GenerationSession::prepare(const Shape& shape) {
  const GPT2Config& c = model_->config();
  TORCH_CHECK(
      shape.batch >= 1 && shape.seq >= 1 && shape.new_tokens >= 1 && shape.seq + shape.new_tokens <= c.n_positions, "[",
      kGenerateName, "] needs batch >= 1, seq >= 1, new_tokens >= 1 and seq + new_tokens <= ", c.n_positions, ", got batch ",
      shape.batch, " seq ", shape.seq, " new_tokens ", shape.new_tokens);
  drop_graphs();  // they read and write the previous shape's buffers
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  prompt_ = at::randint(c.vocab_size, {shape.batch, shape.seq}, generator, at::kLong).to(device_);
  cache_ = KVCache();  // free the previous shape's cache before allocating this one
  cache_ = model_->make_cache(shape.batch, shape.seq + shape.new_tokens);
  tokens_ = at::zeros({shape.batch, shape.new_tokens}, prompt_.options());
  next_ = at::zeros({shape.batch, 1}, prompt_.options());
  first_token_timed_ = false;
}

at::Tensor GenerationSession::forward() {
  TORCH_CHECK(prompt_.defined(), "[", kGenerateName, "] forward() before prepare()");
  return model_->forward(prompt_);
}

void GenerationSession::step() {
  TORCH_CHECK(prompt_.defined(), "[", kGenerateName, "] step() before prepare()");
  c10::InferenceMode inference;
  first_token_timer_->start();
  if (graphs_.recorded()) {
    graphs_.replay(tokens_.size(1) - 1, [this] { first_token_timer_->stop(); });
  } else {
    cache_.reset();
    greedy_decode(*model_, cache_, prompt_, tokens_, at::Tensor(), [this] { first_token_timer_->stop(); });
  }
  first_token_timed_ = true;
}

std::optional<double> GenerationSession::last_first_token_ms() const {
  if (!first_token_timed_) return std::nullopt;
  return first_token_timer_->elapsed_ms();
}

void GenerationSession::prompt_pass() {
  cache_.reset();  // the prompt's positions [0, seq) are host constants, the same in every replay
  const at::Tensor logits = model_->forward_cached(prompt_, cache_);  // (batch, vocab)
  at::argmax_out(next_, logits, -1, /*keepdim=*/true);                // as greedy_decode's argmax
  tokens_.narrow(1, 0, 1).copy_(next_);
  cache_.set_position(prompt_.size(1));
}

void GenerationSession::decode_token() {
  const at::Tensor logits = model_->decode_step(next_, cache_);  // at the device position, then advanced
  at::argmax_out(next_, logits, -1, /*keepdim=*/true);
  // The token just made sits at the (advanced) device position; token i of the output at seq + i.
  tokens_.index_copy_(1, cache_.position() - prompt_.size(1), next_);
}

void GenerationSession::record_graphs(GraphRecorder& recorder) {
  TORCH_CHECK(prompt_.defined(), "[", kGenerateName, "] record_graphs() before prepare()");
  c10::InferenceMode inference;
  graphs_.record(recorder, [this] { prompt_pass(); }, [this] { decode_token(); }, tokens_.size(1) > 1);
}

void GenerationSession::drop_graphs() { graphs_.drop(); }

}  // namespace gpt2

namespace {

using gpt2::GPT2Config;

ModelFacts gpt2_generate_facts(const std::string& size) {
  const GPT2Config c = gpt2::small_config(size);
  return {std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_head) + " heads, " + std::to_string(c.n_embd) +
              " wide, vocab " + std::to_string(c.vocab_size) + ", " + std::to_string(c.n_positions) + " positions",
          gpt2::count_params(c), c.n_positions};
}

class Gpt2Generate : public WorkloadBase {
 public:
  // The M3 Max review's test: one sequence, "The rain in Spain" (4 tokens), 16 new tokens.
  Gpt2Generate()
      : WorkloadBase({gpt2::kGenerateName,
                      "GPT-2 small (124M): greedy generation of 16 tokens after a 4-token prompt, KV cache (the "
                      "\"!!!!\" check of the \"Don't buy for Deep Learning\" M3 Max review)",
                      Job::infer, "tokens"},
                     {{"tiny", {1}, {4}, {16}}, {"full", {1}, {4}, {16}}}, gpt2_generate_facts) {}

  // Generated tokens: the prompt's tokens are work of the step but not its product.
  double items_per_step(const Shape& shape) const override { return double(shape.batch) * double(shape.new_tokens); }

  // The step's forward FLOPs per sequence (gpt2::generation_flops: 2N per position through the
  // layers, attention over the cached context, the head once per new token) over its new tokens.
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    if (shape.new_tokens < 1) return 0.0;
    return gpt2::generation_flops(gpt2::small_config(size), shape.seq, shape.new_tokens) /
           static_cast<double>(shape.new_tokens);
  }

  // Decode steps are bound by memory: the weights and the cache one token reads (see
  // gpt2::decode_bytes_per_token).
  double bytes_per_item(const std::string& size, const Shape& shape, const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    return gpt2::decode_bytes_per_token(gpt2::small_config(size), shape.seq, shape.new_tokens, shape.batch,
                                        bytes_per_element(precision));
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    auto session = std::make_unique<gpt2::GenerationSession>(gpt2::small_config(size), device, precision, options.seed);
    if (!options.weights.empty()) load_weights(session->model(), options.weights, gpt2::checkpoint_names());
    return session;
  }

  // Resident: the weights in the inference dtype. A step adds the KV cache (keys and values of
  // every layer for seq + new_tokens positions, rounded up as the cache allocates them) and one
  // row of float32-sized logits per sequence; the prompt's activations are left out.
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const GPT2Config c = gpt2::small_config(size);
    const int64_t e = bytes_per_element(precision);
    MemoryEstimate m;
    m.model = gpt2::count_params(c) * e;
    m.per_step =
        2 * c.n_layer * shape.batch * KVCache::capacity_for(shape.seq + shape.new_tokens) * c.n_embd * e +
        shape.batch * c.vocab_size * 4;
    return m;
  }
};

}  // namespace

std::unique_ptr<Workload> make_gpt2_generate() { return std::make_unique<Gpt2Generate>(); }

}  // namespace mlspeed
