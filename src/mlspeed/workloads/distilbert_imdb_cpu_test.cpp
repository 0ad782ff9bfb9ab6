#include "mlspeed/workloads/distilbert_imdb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "testing/imdb_fixture.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/io/weights.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

const Workload& distilbert_imdb() { return testing::catalogue_workload("distilbert-imdb"); }

using testing::kCpu;

distilbert::FineTuneSession& as_distilbert_session(Session& session) {
  return dynamic_cast<distilbert::FineTuneSession&>(session);
}

TEST(DistilBertImdb, DescribesItself) {
  const Workload& w = distilbert_imdb();
  EXPECT_EQ(w.job(), Job::train);
  EXPECT_EQ(w.item_unit(), "samples");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 66'955'010);  // SPEC.md
  EXPECT_EQ(full->batches, (std::vector<int64_t>{16, 32, 64, 128}));
  EXPECT_EQ(full->seqs, std::vector<int64_t>{512});
  EXPECT_EQ(full->max_seq, 512);
  EXPECT_NE(full->summary.find("(7.7M)"), std::string::npos) << full->summary;
  const WorkloadSize* tiny = find_size(w, "tiny");
  ASSERT_NE(tiny, nullptr);
  EXPECT_LT(tiny->parameters, 100'000);
  EXPECT_EQ(w.items_per_step(Shape{16, 512}), 16.0);
  EXPECT_DOUBLE_EQ(w.flops_per_item("full", Shape{16, 512}), 62'616'118'272.0);
  EXPECT_NE(w.data_format().find("aclImdb"), std::string::npos);
  EXPECT_NE(w.data_format().find("vocab.txt"), std::string::npos);
}

TEST(DistilBertImdb, TinySizeCountsItsBuiltModel) {
  auto session = distilbert_imdb().open("tiny", kCpu, Precision::fp32, {1});
  EXPECT_EQ(distilbert::num_params(session->model()), find_size(distilbert_imdb(), "tiny")->parameters);
}

TEST(DistilBertImdb, MemoryEstimateIsALowerBound) {
  const auto full = distilbert_imdb().memory_estimate("full", Shape{16, 512}, Precision::fp32);
  ASSERT_TRUE(full);
  // Weights alone, 4 bytes each, plus gradients and moments of the 7.68M trainable ones.
  EXPECT_EQ(full->model, 4 * 66'955'010LL + 12 * 7'680'002LL);
  EXPECT_GT(full->per_step, 16 * 512 * 768 * 4);
  EXPECT_LT(full->total(), 4LL << 30);  // batch 16 trains in well under 4 GiB on a GPU
  const auto half = distilbert_imdb().memory_estimate("full", Shape{16, 512}, Precision::bf16);
  EXPECT_LT(half->per_step, full->per_step);
  EXPECT_GT(distilbert_imdb().memory_estimate("full", Shape{128, 512}, Precision::fp32)->per_step, 7 * full->per_step);
}

TEST(DistilBertImdb, UnknownSizeAndBadShapesAreRefused) {
  EXPECT_THROW(distilbert_imdb().open("huge", kCpu, Precision::fp32, {1}), std::invalid_argument);
  auto session = distilbert_imdb().open("tiny", kCpu, Precision::fp32, {1});
  EXPECT_THROW(session->step(), c10::Error);                 // not prepared
  EXPECT_THROW(session->prepare(Shape{4, 65}), c10::Error);  // past 64 positions
  EXPECT_THROW(session->prepare(Shape{0, 16}), c10::Error);
}

TEST(DistilBertImdb, AStepTrainsOnlyTheTail) {
  auto session = distilbert_imdb().open("tiny", kCpu, Precision::fp32, {1});
  auto& s = as_distilbert_session(*session);
  session->prepare(Shape{2, 16});
  EXPECT_EQ(s.input_ids().sizes(), (std::vector<int64_t>{2, 16}));
  EXPECT_FALSE(s.padding_mask().defined());  // synthetic data has no padding
  const auto& model = s.classifier();
  const at::Tensor frozen = model->distilbert->transformer->blocks[0]->ffn->lin1->weight.detach().clone();
  const at::Tensor embeddings = model->distilbert->embeddings->word_embeddings->weight.detach().clone();
  const at::Tensor last = model->distilbert->transformer->blocks[1]->ffn->lin1->weight.detach().clone();
  const at::Tensor head = model->classifier->weight.detach().clone();
  session->step();
  session->step();
  EXPECT_TRUE(std::isfinite(s.last_loss().item<float>()));
  EXPECT_TRUE(model->distilbert->transformer->blocks[0]->ffn->lin1->weight.equal(frozen));
  EXPECT_TRUE(model->distilbert->embeddings->word_embeddings->weight.equal(embeddings));
  EXPECT_FALSE(model->distilbert->transformer->blocks[1]->ffn->lin1->weight.equal(last));
  EXPECT_FALSE(model->classifier->weight.equal(head));
  // The optimizer holds the trainable tensors only.
  int64_t held = 0;
  for (const auto& group : s.optimizer().groups())
    for (const auto& p : group.params) {
      EXPECT_TRUE(p.requires_grad());
      held += p.numel();
    }
  EXPECT_EQ(held, distilbert::count_trainable_params(distilbert::imdb_config("tiny")));
  EXPECT_EQ(s.optimizer().options().lr, 2e-5);
}

TEST(DistilBertImdb, SameSeedSameFirstLoss) {
  std::vector<float> losses;
  for (uint64_t seed : {5, 5, 6}) {
    auto session = distilbert_imdb().open("tiny", kCpu, Precision::fp32, {seed});
    session->prepare(Shape{4, 32});
    as_distilbert_session(*session).classifier()->eval();  // no dropout: the loss depends on weights and data only
    session->step();
    losses.push_back(as_distilbert_session(*session).last_loss().item<float>());
  }
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(losses[0], losses[2]);
}

// The step (autocast, loss, backward through the tail, clip, AdamW) lowers the loss on one
// fixed batch of random labels, steadily. The seed's learning rate, 2e-5, moves a weight by about
// that much a step: from chance (ln 2) the loss falls slowly, but it must keep falling.
void expect_loss_falls_on_one_batch(Precision precision) {
  auto session = distilbert_imdb().open("tiny", kCpu, precision, {3});
  session->prepare(Shape{4, 16});
  auto& s = as_distilbert_session(*session);
  s.classifier()->eval();  // a fixed function to fit
  std::vector<float> curve;
  std::string text;
  for (int i = 0; i <= 300; ++i) {
    session->step();
    if (i % 100 == 0) {
      curve.push_back(s.last_loss().item<float>());
      text += " " + std::to_string(curve.back());
    }
  }
  EXPECT_NEAR(curve[0], std::log(2.0f), 0.2f);
  for (size_t i = 1; i < curve.size(); ++i)
    EXPECT_LT(curve[i], curve[i - 1] - 0.005f) << "loss every 100 steps:" << text;
}

TEST(DistilBertImdb, LossFallsOnOneBatchInFloat32) { expect_loss_falls_on_one_batch(Precision::fp32); }

TEST(DistilBertImdb, LossFallsOnOneBatchUnderBFloat16Autocast) {
  if (!compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16)) GTEST_SKIP() << "no CPU bf16 autocast";
  expect_loss_falls_on_one_batch(Precision::bf16);
}

TEST(DistilBertImdb, StepsInEveryCpuPrecision) {
  for (Precision precision : kAllPrecisions) {
    const bool autocast = precision == Precision::fp16 || precision == Precision::bf16;
    const at::ScalarType dtype = precision == Precision::fp16 ? at::kHalf : at::kBFloat16;
    if (autocast && !compat::autocast_supports(c10::DeviceType::CPU, dtype)) {
      EXPECT_THROW(distilbert_imdb().open("tiny", kCpu, precision, {1}), c10::Error) << name(precision);
      continue;
    }
    auto session = distilbert_imdb().open("tiny", kCpu, precision, {1});
    auto& s = as_distilbert_session(*session);
    session->prepare(Shape{2, 16});
    session->step();
    session->step();
    EXPECT_TRUE(std::isfinite(s.last_loss().item<float>())) << name(precision);
    EXPECT_EQ(s.classifier()->classifier->weight.scalar_type(), at::kFloat) << name(precision);
  }
}

TEST(DistilBertImdb, TrainsOnTheReviewsWithData) {
  testing::TempDir dir;
  const std::string root = imdb::fixture::write_aclimdb(dir.path());
  auto session = distilbert_imdb().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", root});
  auto& s = as_distilbert_session(*session);
  EXPECT_THROW(session->prepare(Shape{2, 1}), c10::Error);  // no room for [CLS] and [SEP]
  session->prepare(Shape{6, 64});
  session->step();
  EXPECT_TRUE(std::isfinite(s.last_loss().item<float>()));
  const at::Tensor ids = s.input_ids();
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{6, 64}));
  ASSERT_TRUE(s.padding_mask().defined());  // short reviews are padded
  // Every row: [CLS] (2) first, one [SEP] (3) where the mask ends, [PAD] (0) after it.
  std::vector<std::string> rows;
  for (int64_t b = 0; b < 6; ++b) {
    const at::Tensor row = ids[b];
    const int64_t length = s.padding_mask()[b].sum().item<int64_t>();
    EXPECT_EQ(row[0].item<int64_t>(), 2);
    EXPECT_EQ(row[length - 1].item<int64_t>(), 3) << "row " << b;
    EXPECT_EQ(row.eq(3).sum().item<int64_t>(), 1);
    EXPECT_EQ(row.narrow(0, length, 64 - length).abs().sum().item<int64_t>(), 0);
    std::string text;
    for (int64_t i = 1; i < length - 1; ++i) text += imdb::fixture::vocabulary()[row[i].item<int64_t>()] + " ";
    rows.push_back(text);
    // The label belongs to the review.
    const bool positive = text.find("loved") != std::string::npos || text.find("great") != std::string::npos;
    EXPECT_EQ(s.labels()[b].item<int64_t>(), positive ? 1 : 0) << text;
  }
  // One epoch of six covers every review once, tokenised with WordPiece.
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(rows[0], "a terrible film . i hated it ! ");
  EXPECT_EQ(rows[1], "a wonderful film . i loved it ! ");
  EXPECT_EQ(rows[2].rfind("boring and too long long", 0), 0u);
  EXPECT_EQ(rows[2].size(), std::string("boring and too ").size() + 59 * std::string("long ").size());  // 62 ids
  EXPECT_EQ(rows[3], "cafe food was better . ");
  EXPECT_EQ(rows[4], "loved it ");
  EXPECT_EQ(rows[5], "un ##want ##ed runn ##ing ? no : a great , great movie . ");
  const std::string description = session->data_description();
  EXPECT_NE(description.find("6 reviews (3 pos, 3 neg)"), std::string::npos) << description;
  EXPECT_NE(description.find(root + "/vocab.txt, 33 tokens"), std::string::npos) << description;
  EXPECT_NE(description.find("padded to 64, 1 reviews truncated"), std::string::npos) << description;
}

TEST(DistilBertImdb, PaddedBatchesTrainUnderAutocast) {
  if (!compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16)) GTEST_SKIP() << "no CPU bf16 autocast";
  testing::TempDir dir;
  auto session =
      distilbert_imdb().open("tiny", kCpu, Precision::bf16, OpenOptions{1, "", imdb::fixture::write_aclimdb(dir.path())});
  auto& s = as_distilbert_session(*session);
  session->prepare(Shape{6, 64});
  for (int i = 0; i < 3; ++i) {
    session->step();
    ASSERT_TRUE(s.padding_mask().defined());  // the float mask, cast to bfloat16 inside attention
    EXPECT_TRUE(std::isfinite(s.last_loss().item<float>())) << "step " << i;
  }
}

TEST(DistilBertImdb, NoMaskWhenNoReviewIsPadded) {
  testing::TempDir dir;
  auto session =
      distilbert_imdb().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", imdb::fixture::write_aclimdb(dir.path())});
  session->prepare(Shape{1, 4});  // every review has at least two ids
  for (int i = 0; i < 6; ++i) {
    session->step();
    EXPECT_FALSE(as_distilbert_session(*session).padding_mask().defined());
  }
}

TEST(DistilBertImdb, DataWithoutVocabularySaysWhereToPutIt) {
  testing::TempDir dir;
  const std::string root = imdb::fixture::write_aclimdb(dir.path(), /*with_vocab=*/false);
  try {
    distilbert_imdb().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", root + "/train"});
    FAIL() << "no vocab.txt";
  } catch (const InputFileError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no vocab.txt in " + root), std::string::npos) << message;
    EXPECT_NE(message.find("distilbert-base-uncased"), std::string::npos) << message;
  }
  EXPECT_THROW(distilbert_imdb().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", dir.file("none")}), InputFileError);
}

TEST(DistilBertImdb, LoadsAClassifierCheckpointOrThePretrainedEncoder) {
  testing::TempDir dir;
  auto source = distilbert_imdb().open("tiny", kCpu, Precision::fp32, {7});
  auto target = distilbert_imdb().open("tiny", kCpu, Precision::fp32, {8});
  const auto& a = as_distilbert_session(*source).classifier();
  const auto& b = as_distilbert_session(*target).classifier();
  // A DistilBertForSequenceClassification checkpoint: everything.
  const std::string whole = dir.file("classifier.safetensors");
  save_weights(*a, whole);
  auto loaded = distilbert_imdb().open("tiny", kCpu, Precision::fp32, OpenOptions{8, whole, ""});
  for (const auto& item : as_distilbert_session(*loaded).classifier()->named_parameters())
    EXPECT_TRUE(item.value().equal(a->named_parameters()[item.key()])) << item.key();
  // distilbert-base-uncased's own file: DistilBertForMaskedLM, the encoder plus an MLM head.
  std::vector<std::pair<std::string, at::Tensor>> mlm;
  for (const auto& item : a->named_parameters())
    if (item.key().rfind("distilbert.", 0) == 0) mlm.emplace_back(item.key(), item.value());
  mlm.emplace_back("vocab_transform.weight", at::zeros({32, 32}));
  mlm.emplace_back("vocab_projector.bias", at::zeros({1000}));
  const std::string pretrained = dir.file("model.safetensors");
  safetensors::save(pretrained, mlm);
  auto from_pretrained = distilbert_imdb().open("tiny", kCpu, Precision::fp32, OpenOptions{8, pretrained, ""});
  const auto& c = as_distilbert_session(*from_pretrained).classifier();
  EXPECT_TRUE(c->distilbert->transformer->blocks[1]->attention->q_lin->weight.equal(
      a->distilbert->transformer->blocks[1]->attention->q_lin->weight));
  EXPECT_TRUE(c->classifier->weight.equal(b->classifier->weight));  // the seed's fresh head
  EXPECT_FALSE(c->classifier->weight.equal(a->classifier->weight));
}

}  // namespace
}  // namespace mlspeed
