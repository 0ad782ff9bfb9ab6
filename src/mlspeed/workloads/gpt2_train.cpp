#include "mlspeed/workloads/gpt2_train.h"

#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/synthetic_inputs.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace gpt2 {
namespace {

constexpr const char* kTrainName = "gpt2-train";

}  // namespace

GPT2Config small_config(const std::string& size) {
  if (size == "full") return GPT2Config{};  // the gpt2 repository's config.json, dropout 0
  if (size == "tiny") {
    // The same code paths at a size a 2-core CPU runs in milliseconds; the vocabulary is large
    // enough for a byte-level BPE vocabulary (256 bytes and a few merges) in tests.
    GPT2Config c;
    c.vocab_size = 512;
    c.n_positions = 64;
    c.n_embd = 32;
    c.n_layer = 2;
    c.n_head = 2;
    return c;
  }
  throw_unknown_size("gpt2", size);
}

TrainingSession::TrainingSession(const GPT2Config& config, const c10::Device& device, Precision precision,
                                 uint64_t seed)
    : TrainingSessionBase(kTrainName, device, precision, seed), model_(build_on_cpu<GPT2Model>(config, seed)) {
  model_->to(device);
  model_->train();
  const std::vector<at::Tensor> params = model_->parameters();
  start_training(params, train::weight_decay_groups(params, kWeightDecay), kAdamW, kGradClip);
}

void TrainingSession::prepare_inputs(const Shape& shape) {
  const GPT2Config& config = model_->config();
  check_batch_and_seq(kTrainName, shape, 1, config.n_positions);
  auto [x, y] = next_token_batch(config.vocab_size, shape, seed(), device());
  x_ = x;
  y_ = y;
}

}  // namespace gpt2

namespace {

using gpt2::GPT2Config;

ModelFacts gpt2_train_facts(const std::string& size) {
  const GPT2Config c = gpt2::small_config(size);
  return {std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_head) + " heads, " + std::to_string(c.n_embd) +
              " wide, vocab " + std::to_string(c.vocab_size) + ", block " + std::to_string(c.n_positions),
          gpt2::count_params(c),  // every parameter once, as Hugging Face counts GPT-2
          c.n_positions};
}

class Gpt2Train : public WorkloadBase {
 public:
  // config/train_gpt2.py: batch_size 12, block_size 1024 (one micro-batch; see the header).
  Gpt2Train()
      : WorkloadBase({gpt2::kTrainName,
                      "GPT-2 small (124M), nanoGPT's config/train_gpt2.py: one AdamW training step of a micro-batch",
                      Job::train, "tokens"},
                     {{"tiny", {4}, {32}}, {"full", {12}, {kModelMaxSeq}}}, gpt2_train_facts) {}

  double items_per_step(const Shape& shape) const override { return double(shape.batch) * double(shape.seq); }

  // nanoGPT's estimate_mfu: 6N + 12 L H Q T per trained token, N = every parameter less the
  // position embedding (123,653,376 for full; see gpt2::mfu_params).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    return gpt2::training_flops_per_token(gpt2::small_config(size), shape.seq);
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    auto session = std::make_unique<gpt2::TrainingSession>(gpt2::small_config(size), device, precision, options.seed);
    if (!options.weights.empty()) load_weights(session->model(), options.weights, gpt2::checkpoint_names());
    return session;
  }

  // Resident: float32 weights, gradients and AdamW's two moments (16 bytes a parameter). A step
  // adds at least the logits (B T V) and, per layer and token, the two float32 residual-stream
  // tensors LayerNorm keeps plus q, k, v, the attention output and the MLP's 4C hidden
  // activations in the compute dtype; GELU's output, LayerNorm outputs, attention statistics and
  // the loss's softmax are left out, so this is well below the real peak.
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const GPT2Config c = gpt2::small_config(size);
    const int64_t tokens = shape.batch * shape.seq, e = bytes_per_element(precision);
    MemoryEstimate m;
    m.model = 16 * gpt2::count_params(c);
    m.per_step = tokens * c.vocab_size * e + c.n_layer * tokens * c.n_embd * (2 * 4 + 8 * e);
    return m;
  }
};

}  // namespace

std::unique_ptr<Workload> make_gpt2_train() { return std::make_unique<Gpt2Train>(); }

}  // namespace mlspeed
