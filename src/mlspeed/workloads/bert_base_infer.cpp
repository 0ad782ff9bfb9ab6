#include "mlspeed/workloads/bert_base_infer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/synthetic_inputs.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace bert {
namespace {

constexpr const char* kName = "bert-base-infer";

}  // namespace

BertConfig base_infer_config(const std::string& size) {
  if (size == "full") return BertConfig{};  // bert-base-uncased
  if (size == "tiny") {
    BertConfig c;
    c.vocab_size = 1000;
    c.hidden_size = 32;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 2;
    c.intermediate_size = 64;
    c.max_position_embeddings = 64;
    return c;
  }
  throw_unknown_size(kName, size);
}

InferenceSession::InferenceSession(const BertConfig& config, const c10::Device& device, Precision precision,
                                   uint64_t seed)
    : device_(device), seed_(seed), model_(build_on_cpu<BertModel>(config, seed)) {
  model_->eval();
  move_for_inference(*model_, device, precision);
}

void InferenceSession::prepare(const Shape& shape) {
  const BertConfig& config = model_->config();
  check_batch_and_seq(kName, shape, 1, config.max_position_embeddings);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  input_ids_ = at::randint(config.vocab_size, {shape.batch, shape.seq}, generator, at::kLong).to(device_);
  output_ = {};
}

at::Tensor InferenceSession::forward() {
  TORCH_CHECK(input_ids_.defined(), "[", kName, "] forward() before prepare()");
  return model_->forward(input_ids_).sequence_output;
}

void InferenceSession::step() {
  TORCH_CHECK(input_ids_.defined(), "[", kName, "] step() before prepare()");
  c10::InferenceMode inference;
  output_ = model_->forward(input_ids_);
}

}  // namespace bert

namespace {

using bert::BertConfig;

ModelFacts bert_base_facts(const std::string& size) {
  const BertConfig c = bert::base_infer_config(size);
  return {std::to_string(c.num_hidden_layers) + " layers, " + std::to_string(c.num_attention_heads) + " heads, " +
              std::to_string(c.hidden_size) + " wide, ffn " + std::to_string(c.intermediate_size) + ", vocab " +
              std::to_string(c.vocab_size),
          bert::count_params(c),  // every parameter, pooler included
          c.max_position_embeddings};
}

class BertBaseInfer : public WorkloadBase {
 public:
  // full: the "Macbook Pro GPU for ML?" table.
  BertBaseInfer()
      : WorkloadBase({bert::kName,
                      "BERT-base-uncased encoder + pooler: one inference forward (the \"Macbook Pro GPU for ML?\" "
                      "table)",
                      Job::infer, "samples"},
                     {{"tiny", {1, 2}, {16, 32}}, {"full", {1, 4}, {128, 512}}}, bert_base_facts) {}

  double items_per_step(const Shape& shape) const override { return double(shape.batch); }

  // Per sequence: T * L * (2 (4h^2 + 2hI) + 4Th) + 2h^2 (see models/bert.cpp for what is counted).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    return bert::inference_flops_per_sequence(bert::base_infer_config(size), shape.seq);
  }

  // Resident: the weights in the inference dtype. A forward holds at least the input and output of
  // a layer and its FFN activation at once (2h + I values per token), no attention matrix (fused).
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const BertConfig c = bert::base_infer_config(size);
    const int64_t tokens = shape.batch * shape.seq;
    return MemoryEstimate{bert::count_params(c) * bytes_per_element(precision),
                          tokens * (2 * c.hidden_size + c.intermediate_size) * bytes_per_element(precision)};
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    auto session =
        std::make_unique<bert::InferenceSession>(bert::base_infer_config(size), device, precision, options.seed);
    // bert-base-uncased's model.safetensors is BertForPreTraining's: "bert." before every name,
    // and the pre-training heads ("cls.*"), which the encoder does not use.
    if (!options.weights.empty())
      load_weights(session->model(), options.weights, WeightsOptions{{}, {}, "bert.", {"cls."}, {}});
    return session;
  }
};

}  // namespace

std::unique_ptr<Workload> make_bert_base_infer() { return std::make_unique<BertBaseInfer>(); }

}  // namespace mlspeed
