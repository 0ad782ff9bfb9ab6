#include "mlspeed/workloads/nanogpt_shakespeare_char.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <stdexcept>
#include <utility>

#include "mlspeed/data/transfer.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/train/autocast.h"
#include "mlspeed/train/step.h"

namespace mlspeed {
namespace nanogpt {
namespace {

constexpr const char* kName = "nanogpt-shakespeare-char";

GPT build_model(const GPTConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  return GPT(config);  // on the CPU: identical weights on every device
}

}  // namespace

GPTConfig shakespeare_char_config(const std::string& size) {
  // config/train_shakespeare_char.py: a baby GPT; 65 characters in the vocabulary.
  if (size == "full") return GPTConfig{65, 256, 6, 6, 384, 0.2, false};
  // The same code paths (dropout, no bias) at a size a 2-core CPU trains in milliseconds.
  if (size == "tiny") return GPTConfig{65, 32, 2, 2, 32, 0.2, false};
  throw std::invalid_argument(std::string("[") + kName + "] unknown size '" + size + "'");
}

TrainingSession::TrainingSession(const GPTConfig& config, const c10::Device& device, Precision precision,
                                 uint64_t seed, const std::string& data)
    : device_(device),
      seed_(seed),
      autocast_dtype_(train::supported_autocast_dtype(precision, device, kName)),
      model_(build_model(config, seed)) {
  model_->to(device);
  model_->train();
  params_ = model_->parameters();
  // The optimiser path follows the device: the fused AdamW kernel on CUDA (LibTorch >= 2.0) and
  // on the CPU (>= 2.4), the _foreach_ implementation elsewhere (LibTorch 1.13, MPS).
  optimizer_ = std::make_unique<train::AdamW>(train::weight_decay_groups(params_, kWeightDecay),
                                              train::AdamWOptions{kLearningRate, kBeta1, kBeta2, kEps});
  if (scales_loss(precision)) scaler_.emplace(device);
  if (!data.empty()) text_ = data::read_char_text(data, config.vocab_size, config.block_size + 1);
}

std::string TrainingSession::data_description() const {
  if (!text_) return "synthetic";
  return "text " + text_->path + ": " + std::to_string(text_->characters) + " characters, " +
         std::to_string(text_->vocabulary.size()) + " distinct, " + std::to_string(text_->train.size(0)) +
         " in the training split";
}

void TrainingSession::load_batch() {
  auto [x, y] = data::char_batch(*text_, shape_.batch, shape_.seq, *batches_);
  x_ = data::upload(x, device_);
  y_ = data::upload(y, device_);
}

void TrainingSession::prepare(const Shape& shape) {
  const GPTConfig& config = model_->config();
  TORCH_CHECK(shape.batch >= 1 && shape.seq >= 1 && shape.seq <= config.block_size, "[", kName,
              "] needs batch >= 1 and 1 <= seq <= ", config.block_size, ", got batch ", shape.batch, " seq ",
              shape.seq);
  shape_ = shape;
  if (text_) {
    batches_ = at::make_generator<at::CPUGeneratorImpl>(seed_);
    load_batch();
    return;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  const at::Tensor stream =
      at::randint(config.vocab_size, {shape.batch, shape.seq + 1}, generator, at::kLong);
  x_ = stream.narrow(1, 0, shape.seq).contiguous().to(device_);
  y_ = stream.narrow(1, 1, shape.seq).contiguous().to(device_);
}

at::Tensor TrainingSession::forward() {
  TORCH_CHECK(x_.defined(), "[", kName, "] forward() before prepare()");
  std::optional<train::AutocastGuard> autocast;
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return model_->forward(x_);
}

at::Tensor TrainingSession::forward_loss() {
  // Only the forward runs under autocast; backward follows the dtypes it recorded (train.py).
  std::optional<train::AutocastGuard> autocast;
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  const at::Tensor logits = forward();
  return at::cross_entropy_loss(logits.view({-1, logits.size(-1)}), y_.view(-1));
}

void TrainingSession::step() {
  TORCH_CHECK(x_.defined(), "[", kName, "] step() before prepare()");
  if (text_) load_batch();
  optimizer_->zero_grad();
  const at::Tensor loss = forward_loss();
  train::backward_and_update(loss, params_, *optimizer_, scaler_, kGradClip);
  last_loss_ = loss.detach();
}

}  // namespace nanogpt

namespace {

using nanogpt::GPTConfig;

class NanoGptShakespeareChar : public Workload {
 public:
  NanoGptShakespeareChar() {
    for (const char* size : {"tiny", "full"}) {
      const GPTConfig c = nanogpt::shakespeare_char_config(size);
      WorkloadSize s;
      s.name = size;
      s.summary = std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_head) + " heads, " +
                  std::to_string(c.n_embd) + " wide, vocab " + std::to_string(c.vocab_size) + ", block " +
                  std::to_string(c.block_size);
      s.parameters = nanogpt::count_params(c, /*non_embedding=*/true);  // nanoGPT's convention
      s.batches = {s.name == "full" ? int64_t{64} : int64_t{4}};
      s.seqs = {c.block_size};
      s.max_seq = c.block_size;
      sizes_.push_back(std::move(s));
    }
  }

  std::string name() const override { return nanogpt::kName; }
  std::string description() const override {
    return "nanoGPT, character-level Shakespeare: one AdamW training step (nanoGPT's config/train_shakespeare_char.py)";
  }
  Job job() const override { return Job::train; }
  std::string data_format() const override {
    return "a plain text file (tiny Shakespeare's input.txt): characters -> ids as nanoGPT's prepare.py, "
           "batches as train.py's get_batch";
  }
  std::string item_unit() const override { return "tokens"; }
  const std::vector<WorkloadSize>& sizes() const override { return sizes_; }
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
                                                Precision precision) const override {
    const GPTConfig c = nanogpt::shakespeare_char_config(size);
    const int64_t params = nanogpt::count_params(c, /*non_embedding=*/false);
    const int64_t tokens = shape.batch * shape.seq;
    return MemoryEstimate{16 * params,
                          13 * c.n_layer * tokens * c.n_embd * bytes_per_element(precision) + 2 * 4 * tokens * c.vocab_size};
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, Precision precision,
                                const OpenOptions& options) const override {
    auto session = std::make_unique<nanogpt::TrainingSession>(nanogpt::shakespeare_char_config(size), device,
                                                              precision, options.seed, options.data);
    // nanoGPT's state dict lists the tied head as lm_head.weight too.
    if (!options.weights.empty())
      load_weights(session->model(), options.weights,
                   WeightsOptions{{}, {{"lm_head.weight", "transformer.wte.weight"}}, "", {}, {}});
    return session;
  }

 private:
  std::vector<WorkloadSize> sizes_;
};

}  // namespace

std::unique_ptr<Workload> make_nanogpt_shakespeare_char() {
  return std::make_unique<NanoGptShakespeareChar>();
}

}  // namespace mlspeed
