#include "mlspeed/workloads/small_transformer_imdb.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstddef>
#include <utility>

#include "mlspeed/data/transfer.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/text/word_index.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/synthetic_inputs.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace small_transformer {
namespace {

constexpr const char* kName = "small-transformer-imdb";

}  // namespace

SmallTransformerConfig imdb_config(const std::string& size) {
  if (size == "full") return SmallTransformerConfig{};  // the Keras example
  if (size == "tiny") {
    SmallTransformerConfig c;
    c.vocab_size = 1000;
    c.maxlen = 32;
    c.embed_dim = 16;
    c.key_dim = 16;
    c.ff_dim = 16;
    c.dense_dim = 8;
    return c;
  }
  throw_unknown_size(kName, size);
}

WordIndexReviews read_word_index_reviews(const std::string& path, const SmallTransformerConfig& config, uint64_t seed) {
  const imdb::TrainSet set = imdb::read_train_set(path);
  std::vector<std::string> texts;
  texts.reserve(set.reviews.size());
  for (const auto& review : set.reviews) texts.push_back(review.text);
  const text::WordIndex index = text::WordIndex::build(texts, config.vocab_size);

  const size_t n = texts.size();
  const size_t keep = static_cast<size_t>(config.maxlen) + 1;  // one more: a cut review is told from one that fits
  std::vector<std::vector<int32_t>> ids(n);
  std::vector<int64_t> labels(n);
  at::parallel_for(0, static_cast<int64_t>(n), 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      std::vector<int32_t> words = index.encode(texts[i]);
      if (words.size() > keep) words.erase(words.begin(), words.end() - static_cast<std::ptrdiff_t>(keep));
      ids[i] = std::move(words);
      labels[i] = set.reviews[i].label;
    }
  });

  WordIndexReviews data;
  data.reviews = imdb::TokenizedReviews(std::move(ids), std::move(labels), seed);
  data.description = "IMDB " + set.train_folder + ": " + std::to_string(n) + " reviews (" +
                     std::to_string(set.positives) + " pos, " + std::to_string(set.negatives) +
                     " neg), word index of " + std::to_string(index.size()) +
                     " ids (padding, OOV, the most frequent words; Keras TextVectorization's standardisation)";
  return data;
}

TrainingSession::TrainingSession(const SmallTransformerConfig& config, const c10::Device& device, Precision precision,
                                 uint64_t seed)
    : TrainingSessionBase(kName, device, precision, seed), model_(build_on_cpu<SmallTransformer>(config, seed)) {
  model_->to(device);
  model_->train();
  const std::vector<at::Tensor> params = model_->parameters();
  start_training(params, {{params, 0.0}}, kAdamW, /*clip_norm=*/0);
}

void TrainingSession::use_data(WordIndexReviews data) { data_ = std::move(data); }

void TrainingSession::prepare_inputs(const Shape& shape) {
  const SmallTransformerConfig& config = model_->config();
  check_batch_and_seq(kName, shape, 1, config.maxlen);
  shape_ = shape;
  if (data_) {
    data_->reviews.rewind();
    input_ids_ = labels_ = at::Tensor();
    return;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed());
  input_ids_ = at::randint(2, config.vocab_size, {shape.batch, shape.seq}, generator, at::kLong).to(device());
  labels_ = at::randint(config.num_classes, {shape.batch}, generator, at::kLong).to(device());
}

// keras.utils.pad_sequences(maxlen=T) with its defaults: the last T words of a longer review
// ("pre" truncation), zeros before a shorter one ("pre" padding).
void TrainingSession::load_next_batch() {
  const int64_t B = shape_.batch, T = shape_.seq;
  const std::vector<size_t> rows = data_->reviews.next_batch(B);
  at::Tensor ids = data::host_buffer({B, T}, at::kLong, device());
  at::Tensor labels = data::host_buffer({B}, at::kLong, device());
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t>& review = data_->reviews.ids(rows[b]);
    const int64_t words = std::min<int64_t>(static_cast<int64_t>(review.size()), T);
    int64_t* row = ids.data_ptr<int64_t>() + b * T;
    std::fill(row, row + (T - words), text::WordIndex::kPadding);
    std::copy(review.end() - words, review.end(), row + (T - words));
    labels.data_ptr<int64_t>()[b] = data_->reviews.label(rows[b]);
  }
  input_ids_ = data::to_device(ids, device());
  labels_ = data::to_device(labels, device());
}

std::string TrainingSession::data_description() const {
  if (!data_) return "synthetic";
  const int64_t T = shape_.seq;
  return data_->description + "; padded or truncated at the front to " + std::to_string(T) + " words, " +
         std::to_string(data_->reviews.longer_than(static_cast<size_t>(T))) +
         " reviews truncated; shuffled from the seed";
}

}  // namespace small_transformer

namespace {

using small_transformer::SmallTransformerConfig;

ModelFacts small_transformer_facts(const std::string& size) {
  const SmallTransformerConfig c = small_transformer::imdb_config(size);
  return {"1 block, " + std::to_string(c.num_heads) + " heads of " + std::to_string(c.key_dim) + ", " +
              std::to_string(c.embed_dim) + " wide, ff " + std::to_string(c.ff_dim) + ", vocab " +
              std::to_string(c.vocab_size) + ", maxlen " + std::to_string(c.maxlen),
          small_transformer::count_params(c), c.maxlen};
}

class SmallTransformerImdb : public WorkloadBase {
 public:
  // The seed's batch sweep, at the model's maxlen.
  SmallTransformerImdb()
      : WorkloadBase({small_transformer::kName,
                      "Keras \"text classification with Transformer\", IMDB: one Adam training step "
                      "(mac-ml-speed-test)",
                      Job::train, "samples",
                      imdb::format_description() + "; the word index is built from those reviews"},
                     {{"tiny", {4}, {kModelMaxSeq}}, {"full", {16, 32, 64, 128}, {kModelMaxSeq}}}, small_transformer_facts) {}

  double items_per_step(const Shape& shape) const override { return double(shape.batch); }

  // 6 x the forward's matrix multiply-adds (models/small_transformer.cpp).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    return small_transformer::training_flops_per_sequence(small_transformer::imdb_config(size), shape.seq);
  }

  // Resident: float32 weights, gradients and Adam's two moments (16 bytes a parameter). Per step,
  // at least the activations the block keeps for backward, per token: its input, q, k, v and the
  // attention context (E + 4 hk), the two LayerNorm inputs and out1 (3 E), the ffn's hidden
  // layer (F), at the autocast dtype; plus the inputs.
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const SmallTransformerConfig c = small_transformer::imdb_config(size);
    const int64_t hk = c.num_heads * c.key_dim;
    MemoryEstimate m;
    m.model = 16 * small_transformer::count_params(c);
    const int64_t tokens = shape.batch * shape.seq;
    m.per_step = tokens * (4 * c.embed_dim + 4 * hk + c.ff_dim) * bytes_per_element(precision) + tokens * 8;
    return m;
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    const SmallTransformerConfig config = small_transformer::imdb_config(size);
    std::optional<small_transformer::WordIndexReviews> data;
    if (!options.data.empty()) data = small_transformer::read_word_index_reviews(options.data, config, options.seed);
    auto session = std::make_unique<small_transformer::TrainingSession>(config, device, precision, options.seed);
    // A file saved from this model (save_weights): the names are this model's (see the header).
    if (!options.weights.empty()) load_weights(session->model(), options.weights);
    if (data) session->use_data(std::move(*data));
    return session;
  }
};

}  // namespace

std::unique_ptr<Workload> make_small_transformer_imdb() { return std::make_unique<SmallTransformerImdb>(); }

}  // namespace mlspeed
