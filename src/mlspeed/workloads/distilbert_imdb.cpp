#include "mlspeed/workloads/distilbert_imdb.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/data/transfer.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/text/wordpiece.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/synthetic_inputs.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace distilbert {
namespace {

constexpr const char* kName = "distilbert-imdb";

// vocab.txt beside the reviews (see read_wordpiece_reviews).
std::string vocabulary_file(const imdb::TrainSet& set) {
  const std::string file = imdb::find_beside(set, "vocab.txt");
  if (file.empty())
    throw InputFileError("no vocab.txt in " + set.root + " or " + set.train_folder + ": " + kName +
                         " tokenises the reviews with distilbert-base-uncased's WordPiece vocabulary; put its "
                         "vocab.txt (huggingface.co/distilbert-base-uncased, the same as bert-base-uncased's) in " +
                         set.root);
  return file;
}

}  // namespace

DistilBertConfig imdb_config(const std::string& size) {
  if (size == "full") return DistilBertConfig{};  // distilbert-base-uncased, 2 labels
  if (size == "tiny") {
    DistilBertConfig c;
    c.vocab_size = 1000;
    c.dim = 32;
    c.n_layers = 2;
    c.n_heads = 2;
    c.hidden_dim = 64;
    c.max_position_embeddings = 64;
    return c;
  }
  throw_unknown_size(kName, size);
}

WordPieceReviews read_wordpiece_reviews(const std::string& path, const DistilBertConfig& config, uint64_t seed) {
  imdb::TrainSet set = imdb::read_train_set(path);
  const std::string vocab_file = vocabulary_file(set);
  const text::WordPiece vocab = text::WordPiece::from_file(vocab_file);
  for (int32_t special : {vocab.pad_id(), vocab.unk_id(), vocab.cls_id(), vocab.sep_id()})
    if (special >= config.vocab_size)
      throw InputFileError(vocab_file + ": " + vocab.token(special) + " has id " + std::to_string(special) +
                           ", past the model's " + std::to_string(config.vocab_size) + " embeddings");

  // Tokenised once, in parallel, as dataset.map(tokenizer, truncation=True) does before training.
  const size_t n = set.reviews.size();
  // One id past what fits is kept, so that a step can tell a truncated review from one that fits.
  const size_t max_ids = static_cast<size_t>(config.max_position_embeddings - 2) + 1;
  std::vector<std::vector<int32_t>> ids(n);
  std::vector<int64_t> labels(n);
  const int32_t limit = static_cast<int32_t>(config.vocab_size), unk = vocab.unk_id();
  at::parallel_for(0, static_cast<int64_t>(n), 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      ids[i] = vocab.encode(set.reviews[i].text, max_ids);
      for (int32_t& id : ids[i])
        if (id >= limit) id = unk;
      labels[i] = set.reviews[i].label;
    }
  });

  WordPieceReviews data;
  data.reviews = imdb::TokenizedReviews(std::move(ids), std::move(labels), seed);
  data.cls_id = vocab.cls_id();
  data.sep_id = vocab.sep_id();
  data.pad_id = vocab.pad_id();
  data.description = "IMDB " + set.train_folder + ": " + std::to_string(n) + " reviews (" +
                     std::to_string(set.positives) + " pos, " + std::to_string(set.negatives) + " neg), WordPiece (" +
                     vocab_file + ", " + std::to_string(vocab.size()) + " tokens";
  if (vocab.size() > config.vocab_size)
    data.description += "; ids past the model's " + std::to_string(config.vocab_size) + " read as [UNK]";
  data.description += ")";
  return data;
}

FineTuneSession::FineTuneSession(const DistilBertConfig& config, const c10::Device& device, Precision precision,
                                 uint64_t seed)
    : TrainingSessionBase(kName, device, precision, seed),
      model_(build_on_cpu<DistilBertForSequenceClassification>(config, seed)) {
  model_->to(device);
  model_->train();  // the Trainer trains with dropout on in every layer, frozen ones included
  trainable_ = freeze_all_but_last_block(*model_);
  // Trainer.create_optimizer: only parameters that require grad; no decay on biases and
  // LayerNorm weights, which are exactly the rank-1 tensors here.
  start_training(trainable_, train::weight_decay_groups(trainable_, kWeightDecay), kAdamW, kGradClip);
}

void FineTuneSession::use_data(WordPieceReviews data) { data_ = std::move(data); }

void FineTuneSession::prepare_inputs(const Shape& shape) {
  const DistilBertConfig& config = model_->config();
  const int64_t min_seq = data_ ? 2 : 1;  // real reviews need room for [CLS] and [SEP]
  check_batch_and_seq(kName, shape, min_seq, config.max_position_embeddings);
  shape_ = shape;
  padding_mask_ = at::Tensor();
  if (data_) {
    data_->reviews.rewind();
    input_ids_ = labels_ = at::Tensor();
    return;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed());
  input_ids_ = at::randint(config.vocab_size, {shape.batch, shape.seq}, generator, at::kLong).to(device());
  labels_ = at::randint(config.num_labels, {shape.batch}, generator, at::kLong).to(device());
}

// [CLS] review [SEP] then [PAD] up to the sequence length, as the tokenizer (truncation) and
// DataCollatorWithPadding make it, but padded to the timed length rather than the batch's
// longest review, so that every step of a shape costs the same.
void FineTuneSession::load_next_batch() {
  const int64_t B = shape_.batch, T = shape_.seq;
  const std::vector<size_t> rows = data_->reviews.next_batch(B);
  at::Tensor ids = data::host_buffer({B, T}, at::kLong, device());
  at::Tensor labels = data::host_buffer({B}, at::kLong, device());
  at::Tensor keep = data::host_buffer({B, T}, at::kLong, device());
  int64_t* id = ids.data_ptr<int64_t>();
  int64_t* k = keep.data_ptr<int64_t>();
  bool padded = false;
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t>& review = data_->reviews.ids(rows[b]);
    const int64_t words = std::min<int64_t>(static_cast<int64_t>(review.size()), T - 2);
    int64_t* row = id + b * T;
    row[0] = data_->cls_id;
    std::copy(review.begin(), review.begin() + words, row + 1);
    row[words + 1] = data_->sep_id;
    std::fill(row + words + 2, row + T, data_->pad_id);
    std::fill(k + b * T, k + b * T + words + 2, 1);
    std::fill(k + b * T + words + 2, k + (b + 1) * T, 0);
    padded = padded || words + 2 < T;
    labels.data_ptr<int64_t>()[b] = data_->reviews.label(rows[b]);
  }
  input_ids_ = data::to_device(ids, device());
  labels_ = data::to_device(labels, device());
  // The mask only when some review is shorter than T: none lets sdpa take its unmasked kernel.
  padding_mask_ = padded ? data::to_device(keep, device()) : at::Tensor();
}

std::string FineTuneSession::data_description() const {
  if (!data_) return "synthetic";
  const int64_t T = shape_.seq;
  const int64_t cut = T >= 2 ? data_->reviews.longer_than(static_cast<size_t>(T - 2)) : 0;
  return data_->description + "; [CLS] review [SEP] padded to " + std::to_string(T) + ", " + std::to_string(cut) +
         " reviews truncated; shuffled from the seed";
}

}  // namespace distilbert

namespace {

using distilbert::DistilBertConfig;

// Loads a safetensors checkpoint into the model. A fine-tuned DistilBertForSequenceClassification
// checkpoint loads whole. distilbert-base-uncased's own model.safetensors (what the seed starts
// from) is DistilBertForMaskedLM's: its "distilbert." encoder loads and its MLM head
// (vocab_transform, vocab_layer_norm, vocab_projector) is skipped, while pre_classifier and
// classifier keep their seeded initialisation, as from_pretrained initialises them.
void load_checkpoint(distilbert::DistilBertForSequenceClassificationImpl& model, const std::string& path) {
  const std::vector<std::string> mlm_head = {"vocab_transform.", "vocab_layer_norm.", "vocab_projector."};
  const bool has_head = safetensors::File(path).find("classifier.weight") != nullptr;
  if (has_head)
    load_weights(model, path, WeightsOptions{{}, {}, "", mlm_head, {}});
  else
    load_weights(*model.distilbert, path, WeightsOptions{{}, {}, "distilbert.", mlm_head, {}});
}

ModelFacts distilbert_imdb_facts(const std::string& size) {
  const DistilBertConfig c = distilbert::imdb_config(size);
  return {std::to_string(c.n_layers) + " layers, " + std::to_string(c.n_heads) + " heads, " + std::to_string(c.dim) +
              " wide, ffn " + std::to_string(c.hidden_dim) + ", vocab " + std::to_string(c.vocab_size) +
              "; trains the last block + head (" +
              format_count(static_cast<double>(distilbert::count_trainable_params(c))) + ")",
          distilbert::count_params(c),  // every parameter, frozen ones included
          c.max_position_embeddings};
}

class DistilBertImdb : public WorkloadBase {
 public:
  // The seed sweeps 16..512 (its author's 18 GB M1 Pro ran 16..128) and tokenises to 512, the
  // model's limit.
  DistilBertImdb()
      : WorkloadBase({distilbert::kName,
                      "DistilBERT-base-uncased + classifier, IMDB: one fine-tuning step of the last block and head "
                      "(mac-ml-speed-test)",
                      Job::train, "samples",
                      imdb::format_description() +
                          ", with bert-base-uncased's WordPiece vocab.txt in the aclImdb folder"},
                     {{"tiny", {4}, {kModelMaxSeq}}, {"full", {16, 32, 64, 128}, {kModelMaxSeq}}}, distilbert_imdb_facts) {}

  double items_per_step(const Shape& shape) const override { return double(shape.batch); }

  // Forward through everything, backward through the trainable tail (models/distilbert.cpp).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    return distilbert::finetune_flops_per_sequence(distilbert::imdb_config(size), shape.seq);
  }

  // Resident: float32 weights, gradients of the trainable tail and its two AdamW moments.
  // Per step, at least what the trainable block keeps for backward: its input, q, k, v, the
  // attention output and the LayerNorm input (6 x B T d), lin1's output and GELU's (2 x B T H),
  // at the autocast dtype; plus the inputs. Attention scores are left out (fused kernels keep none).
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const DistilBertConfig c = distilbert::imdb_config(size);
    MemoryEstimate m;
    m.model = 4 * distilbert::count_params(c) + (4 + 8) * distilbert::count_trainable_params(c);
    const int64_t tokens = shape.batch * shape.seq;
    m.per_step = tokens * (6 * c.dim + 2 * c.hidden_dim) * bytes_per_element(precision) + tokens * 8 * 2;
    return m;
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
    const DistilBertConfig config = distilbert::imdb_config(size);
    // The data set first: a bad one fails before the model is built.
    std::optional<distilbert::WordPieceReviews> data;
    if (!options.data.empty()) data = distilbert::read_wordpiece_reviews(options.data, config, options.seed);
    auto session = std::make_unique<distilbert::FineTuneSession>(config, device, precision, options.seed);
    if (!options.weights.empty()) load_checkpoint(*session->classifier(), options.weights);
    if (data) session->use_data(std::move(*data));
    return session;
  }
};

}  // namespace

std::unique_ptr<Workload> make_distilbert_imdb() { return std::make_unique<DistilBertImdb>(); }

}  // namespace mlspeed
