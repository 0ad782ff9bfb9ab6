#include "mlspeed/workloads/gpt2_train.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <stdexcept>
#include <utility>

#include "mlspeed/io/weights.h"
#include "mlspeed/train/autocast.h"
#include "mlspeed/train/step.h"

namespace mlspeed {
namespace gpt2 {
namespace {

constexpr const char* kName = "gpt2-train";

GPT2Model build_model(const GPT2Config& config, uint64_t seed) {
  torch::manual_seed(seed);
  return GPT2Model(config);  // on the CPU: identical weights on every device
}

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
  throw std::invalid_argument(std::string("[gpt2] unknown size '") + size + "'");
}

TrainingSession::TrainingSession(const GPT2Config& config, const c10::Device& device, Precision precision,
                                 uint64_t seed)
    : device_(device),
      seed_(seed),
      autocast_dtype_(train::supported_autocast_dtype(precision, device, kName)),
      model_(build_model(config, seed)) {
  model_->to(device);
  model_->train();
  params_ = model_->parameters();
  optimizer_ = std::make_unique<train::AdamW>(train::weight_decay_groups(params_, kWeightDecay),
                                              train::AdamWOptions{kLearningRate, kBeta1, kBeta2, kEps});
  if (scales_loss(precision)) scaler_.emplace(device);
}

void TrainingSession::prepare(const Shape& shape) {
  const GPT2Config& config = model_->config();
  TORCH_CHECK(shape.batch >= 1 && shape.seq >= 1 && shape.seq <= config.n_positions, "[", kName,
              "] needs batch >= 1 and 1 <= seq <= ", config.n_positions, ", got batch ", shape.batch, " seq ",
              shape.seq);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  const at::Tensor stream = at::randint(config.vocab_size, {shape.batch, shape.seq + 1}, generator, at::kLong);
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
  TORCH_CHECK(x_.defined(), "[", kName, "] forward_loss() before prepare()");
  // Only the forward runs under autocast; backward follows the dtypes it recorded (train.py).
  std::optional<train::AutocastGuard> autocast;
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return model_->loss(x_, y_);
}

void TrainingSession::step() {
  TORCH_CHECK(x_.defined(), "[", kName, "] step() before prepare()");
  optimizer_->zero_grad();
  const at::Tensor loss = forward_loss();
  train::backward_and_update(loss, params_, *optimizer_, scaler_, kGradClip);
  last_loss_ = loss.detach();
}

}  // namespace gpt2

namespace {

using gpt2::GPT2Config;

class Gpt2Train : public Workload {
 public:
  Gpt2Train() {
    for (const char* size : {"tiny", "full"}) {
      const GPT2Config c = gpt2::small_config(size);
      WorkloadSize s;
      s.name = size;
      s.summary = std::to_string(c.n_layer) + " layers, " + std::to_string(c.n_head) + " heads, " +
                  std::to_string(c.n_embd) + " wide, vocab " + std::to_string(c.vocab_size) + ", block " +
                  std::to_string(c.n_positions);
      s.parameters = gpt2::count_params(c);  // every parameter once, as Hugging Face counts GPT-2
      // config/train_gpt2.py: batch_size 12, block_size 1024 (one micro-batch; see the header).
      s.batches = {s.name == "full" ? int64_t{12} : int64_t{4}};
      s.seqs = {s.name == "full" ? c.n_positions : int64_t{32}};
      s.max_seq = c.n_positions;
      sizes_.push_back(std::move(s));
    }
  }

  std::string name() const override { return "gpt2-train"; }
  std::string description() const override {
    return "GPT-2 small (124M), nanoGPT's config/train_gpt2.py: one AdamW training step of a micro-batch";
  }
  Job job() const override { return Job::train; }
  std::string item_unit() const override { return "tokens"; }
  const std::vector<WorkloadSize>& sizes() const override { return sizes_; }
  double items_per_step(const Shape& shape) const override { return double(shape.batch) * double(shape.seq); }

  // nanoGPT's estimate_mfu: 6N + 12 L H Q T per trained token, N = every parameter less the
  // position embedding (123,653,376 for full; see gpt2::mfu_params).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    return gpt2::training_flops_per_token(gpt2::small_config(size), shape.seq);
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, Precision precision,
                                const OpenOptions& options) const override {
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
                                                Precision precision) const override {
    const GPT2Config c = gpt2::small_config(size);
    const int64_t tokens = shape.batch * shape.seq, e = bytes_per_element(precision);
    MemoryEstimate m;
    m.model = 16 * gpt2::count_params(c);
    m.per_step = tokens * c.vocab_size * e + c.n_layer * tokens * c.n_embd * (2 * 4 + 8 * e);
    return m;
  }

 private:
  std::vector<WorkloadSize> sizes_;
};

}  // namespace

std::unique_ptr<Workload> make_gpt2_train() { return std::make_unique<Gpt2Train>(); }

}  // namespace mlspeed
