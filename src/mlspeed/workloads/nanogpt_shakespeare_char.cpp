#include "mlspeed/workloads/nanogpt_shakespeare_char.h"

#include <ATen/CPUGeneratorImpl.h>

#include "mlspeed/data/transfer.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/synthetic_inputs.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace nanogpt {
namespace {

constexpr const char* kName = "nanogpt-shakespeare-char";

}  // namespace

GPTConfig shakespeare_char_config(const std::string& size) {
  // config/train_shakespeare_char.py: a baby GPT; 65 characters in the vocabulary.
  if (size == "full") return GPTConfig{65, 256, 6, 6, 384, 0.2, false};
  // The same code paths (dropout, no bias) at a size a 2-core CPU trains in milliseconds.
  if (size == "tiny") return GPTConfig{65, 32, 2, 2, 32, 0.2, false};
  throw_unknown_size(kName, size);
}

TrainingSession::TrainingSession(const GPTConfig& config, const c10::Device& device, Precision precision,
                                 uint64_t seed, const std::string& data)
    : TrainingSessionBase(kName, device, precision, seed), model_(build_on_cpu<GPT>(config, seed)) {
  model_->to(device);
  model_->train();
  const std::vector<at::Tensor> params = model_->parameters();
  start_training(params, train::weight_decay_groups(params, kWeightDecay), kAdamW, kGradClip);
  if (!data.empty()) text_ = data::read_char_text(data, config.vocab_size, config.block_size + 1);
}

std::string TrainingSession::data_description() const {
  if (!text_) return "synthetic";
  return "text " + text_->path + ": " + std::to_string(text_->characters) + " characters, " +
         std::to_string(text_->vocabulary.size()) + " distinct, " + std::to_string(text_->train.size(0)) +
         " in the training split";
}

void TrainingSession::load_next_batch() {
  auto [x, y] = data::char_batch(*text_, shape_.batch, shape_.seq, *batches_);
  x_ = data::upload(x, device());
  y_ = data::upload(y, device());
}

void TrainingSession::prepare_inputs(const Shape& shape) {
  const GPTConfig& config = model_->config();
  check_batch_and_seq(kName, shape, 1, config.block_size);
  shape_ = shape;
  if (text_) {
    batches_ = at::make_generator<at::CPUGeneratorImpl>(seed());
    load_next_batch();
    return;
  }
  auto [x, y] = next_token_batch(config.vocab_size, shape, seed(), device());
  x_ = x;
  y_ = y;
}

at::Tensor TrainingSession::loss() {
  const at::Tensor logits = this->logits();
  return at::cross_entropy_loss(logits.view({-1, logits.size(-1)}), y_.view(-1));
}

}  // namespace nanogpt

namespace {

using nanogpt::GPTConfig;

ModelFacts nanogpt_facts(const std::string& size) {
  const GPTConfig c = nanogpt::shakespeare_char_config(size);
  return {std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_head) + " heads, " + std::to_string(c.n_embd) +
              " wide, vocab " + std::to_string(c.vocab_size) + ", block " + std::to_string(c.block_size),
          nanogpt::count_params(c, /*non_embedding=*/true),  // nanoGPT's convention
          c.block_size};
}

class NanoGptShakespeareChar : public WorkloadBase {
 public:
  NanoGptShakespeareChar()
      : WorkloadBase(
            {nanogpt::kName,
             "nanoGPT, character-level Shakespeare: one AdamW training step (nanoGPT's "
             "config/train_shakespeare_char.py)",
             Job::train, "tokens",
             "a plain text file (tiny Shakespeare's input.txt): characters -> ids as nanoGPT's prepare.py, "
             "batches as train.py's get_batch"},
            {{"tiny", {4}, {kModelMaxSeq}}, {"full", {64}, {kModelMaxSeq}}}, nanogpt_facts) {}

  double items_per_step(const Shape& shape) const override { return double(shape.batch) * double(shape.seq); }

  // nanoGPT's estimate_mfu: 6N + 12 L H Q T per trained token (N without the position embedding).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    const GPTConfig c = nanogpt::shakespeare_char_config(size);
    return nanogpt::training_flops_per_token(c, nanogpt::count_params(c, true), shape.seq);
  }

  // Resident: float32 weights, gradients and AdamW's two moments (16 bytes a parameter, every
  // parameter counted). A step keeps at least, per layer, the block's input, the two LayerNorm
  // outputs, q/k/v, the attention output and the 4x MLP activation for backward (13 B*T*C values in
  // the autocast dtype), plus the logits and their gradient in float32 (cross-entropy upcasts).
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const GPTConfig c = nanogpt::shakespeare_char_config(size);
    const int64_t params = nanogpt::count_params(c, /*non_embedding=*/false);
    const int64_t tokens = shape.batch * shape.seq;
    return MemoryEstimate{16 * params, 13 * c.n_layer * tokens * c.n_embd * bytes_per_element(precision) +
                                           2 * 4 * tokens * c.vocab_size};
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    auto session = std::make_unique<nanogpt::TrainingSession>(nanogpt::shakespeare_char_config(size), device,
                                                              precision, options.seed, options.data);
    // nanoGPT's state dict lists the tied head as lm_head.weight too.
    if (!options.weights.empty())
      load_weights(session->model(), options.weights,
                   WeightsOptions{{}, {{"lm_head.weight", "transformer.wte.weight"}}, "", {}, {}});
    return session;
  }
};

}  // namespace

std::unique_ptr<Workload> make_nanogpt_shakespeare_char() {
  return std::make_unique<NanoGptShakespeareChar>();
}

}  // namespace mlspeed
