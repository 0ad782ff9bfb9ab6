#include "mlspeed/workloads/small_transformer_imdb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "testing/imdb_fixture.h"
#include "mlspeed/io/weights.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

const Workload& small_transformer() { return testing::catalogue_workload("small-transformer-imdb"); }

using testing::kCpu;

small_transformer::TrainingSession& as_small_transformer_session(Session& session) {
  return dynamic_cast<small_transformer::TrainingSession&>(session);
}

TEST(SmallTransformerImdb, DescribesItself) {
  const Workload& w = small_transformer();
  EXPECT_EQ(w.job(), Job::train);
  EXPECT_EQ(w.item_unit(), "samples");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 657'758);
  EXPECT_EQ(full->batches, (std::vector<int64_t>{16, 32, 64, 128}));
  EXPECT_EQ(full->seqs, std::vector<int64_t>{200});
  EXPECT_EQ(full->max_seq, 200);
  const WorkloadSize* tiny = find_size(w, "tiny");
  ASSERT_NE(tiny, nullptr);
  EXPECT_LT(tiny->parameters, 100'000);
  EXPECT_DOUBLE_EQ(w.flops_per_item("full", Shape{16, 200}), 43'012'080.0);
  EXPECT_EQ(w.items_per_step(Shape{16, 200}), 16.0);
  EXPECT_NE(w.data_format().find("aclImdb"), std::string::npos);
}

TEST(SmallTransformerImdb, TinySizeCountsItsBuiltModel) {
  auto session = small_transformer().open("tiny", kCpu, Precision::fp32, {1});
  EXPECT_EQ(small_transformer::num_params(session->model()), find_size(small_transformer(), "tiny")->parameters);
}

TEST(SmallTransformerImdb, MemoryEstimateIsALowerBound) {
  const auto m = small_transformer().memory_estimate("full", Shape{16, 200}, Precision::fp32);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->model, 16 * 657'758LL);  // weights, gradients, two Adam moments
  EXPECT_GT(m->per_step, 16 * 200 * 32 * 4);
  EXPECT_LT(m->total(), 256LL << 20);
}

TEST(SmallTransformerImdb, UnknownSizeAndBadShapesAreRefused) {
  EXPECT_THROW(small_transformer().open("huge", kCpu, Precision::fp32, {1}), std::invalid_argument);
  auto session = small_transformer().open("tiny", kCpu, Precision::fp32, {1});
  EXPECT_THROW(session->step(), c10::Error);
  EXPECT_THROW(session->prepare(Shape{4, 33}), c10::Error);  // past maxlen 32
}

TEST(SmallTransformerImdb, AStepUpdatesEveryParameterWithAdam) {
  auto session = small_transformer().open("tiny", kCpu, Precision::fp32, {1});
  auto& s = as_small_transformer_session(*session);
  session->prepare(Shape{4, 32});
  std::vector<at::Tensor> before;
  for (const auto& p : s.transformer()->parameters()) before.push_back(p.detach().clone());
  session->step();
  EXPECT_TRUE(std::isfinite(s.last_loss().item<float>()));
  const auto after = s.transformer()->parameters();
  for (size_t i = 0; i < after.size(); ++i) EXPECT_FALSE(after[i].equal(before[i])) << "parameter " << i;
  ASSERT_EQ(s.optimizer().groups().size(), 1u);
  EXPECT_EQ(s.optimizer().groups()[0].weight_decay, 0.0);  // Adam, not AdamW
  EXPECT_EQ(s.optimizer().options().lr, 1e-3);
  EXPECT_EQ(s.optimizer().options().eps, 1e-7);
  EXPECT_EQ(s.input_ids().min().item<int64_t>() >= 2, true);  // synthetic: no padding, no OOV
}

TEST(SmallTransformerImdb, SameSeedSameFirstLoss) {
  std::vector<float> losses;
  for (uint64_t seed : {5, 5, 6}) {
    auto session = small_transformer().open("tiny", kCpu, Precision::fp32, {seed});
    session->prepare(Shape{4, 32});
    as_small_transformer_session(*session).transformer()->eval();
    session->step();
    losses.push_back(as_small_transformer_session(*session).last_loss().item<float>());
  }
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(losses[0], losses[2]);
}

void expect_fits_one_batch(Precision precision) {
  auto session = small_transformer().open("tiny", kCpu, precision, {3});
  session->prepare(Shape{8, 32});
  auto& s = as_small_transformer_session(*session);
  session->step();
  const float first = s.last_loss().item<float>();
  EXPECT_NEAR(first, std::log(2.0f), 0.2f);
  std::string curve = std::to_string(first);
  for (int i = 1; i <= 200; ++i) {
    session->step();
    if (i % 50 == 0) curve += " " + std::to_string(s.last_loss().item<float>());
  }
  EXPECT_LT(s.last_loss().item<float>(), 0.2f) << "loss every 50 steps: " << curve;
}

TEST(SmallTransformerImdb, FitsOneBatchInFloat32) { expect_fits_one_batch(Precision::fp32); }

TEST(SmallTransformerImdb, FitsOneBatchUnderBFloat16Autocast) {
  if (!compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16)) GTEST_SKIP() << "no CPU bf16 autocast";
  expect_fits_one_batch(Precision::bf16);
}

TEST(SmallTransformerImdb, StepsInEveryCpuPrecision) {
  for (Precision precision : kAllPrecisions) {
    const bool autocast = precision == Precision::fp16 || precision == Precision::bf16;
    const at::ScalarType dtype = precision == Precision::fp16 ? at::kHalf : at::kBFloat16;
    if (autocast && !compat::autocast_supports(c10::DeviceType::CPU, dtype)) {
      EXPECT_THROW(small_transformer().open("tiny", kCpu, precision, {1}), c10::Error) << name(precision);
      continue;
    }
    auto session = small_transformer().open("tiny", kCpu, precision, {1});
    session->prepare(Shape{2, 16});
    session->step();
    session->step();
    EXPECT_TRUE(std::isfinite(as_small_transformer_session(*session).last_loss().item<float>())) << name(precision);
  }
}

TEST(SmallTransformerImdb, TrainsOnTheReviewsWithData) {
  testing::TempDir dir;
  const std::string root = imdb::fixture::write_aclimdb(dir.path());
  auto session = small_transformer().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", root + "/train"});
  auto& s = as_small_transformer_session(*session);
  session->prepare(Shape{6, 32});
  session->step();
  EXPECT_TRUE(std::isfinite(s.last_loss().item<float>()));
  const at::Tensor ids = s.input_ids();
  ASSERT_EQ(ids.sizes(), (std::vector<int64_t>{6, 32}));
  std::vector<std::vector<int64_t>> rows;
  for (int64_t b = 0; b < 6; ++b) {
    const at::Tensor row = ids[b];
    std::vector<int64_t> v(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + 32);
    rows.push_back(v);
    // Padding (0) only at the front, as pad_sequences pads.
    const auto first_word = std::find_if(v.begin(), v.end(), [](int64_t id) { return id != 0; });
    EXPECT_TRUE(std::all_of(first_word, v.end(), [](int64_t id) { return id != 0; })) << "row " << b;
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::count(a.begin(), a.end(), 0) > std::count(b.begin(), b.end(), 0);
  });
  // The shortest review ("Loved it") has 30 zeros in front; the longest is cut to its last 32
  // words, all "long", the most frequent word: id 2.
  EXPECT_EQ(std::count(rows[0].begin(), rows[0].end(), 0), 30);
  EXPECT_EQ(rows[5], std::vector<int64_t>(32, 2));
  const std::string description = session->data_description();
  EXPECT_NE(description.find("6 reviews (3 pos, 3 neg)"), std::string::npos) << description;
  EXPECT_NE(description.find("1 reviews truncated"), std::string::npos) << description;
}

TEST(SmallTransformerImdb, LabelsFollowTheReviews) {
  testing::TempDir dir;
  auto session =
      small_transformer().open("tiny", kCpu, Precision::fp32, OpenOptions{2, "", imdb::fixture::write_aclimdb(dir.path())});
  auto& s = as_small_transformer_session(*session);
  session->prepare(Shape{1, 32});
  // (words, label) of each review: "A terrible film. I hated it!" 6, the long one cut to 32,
  // "Café food was better." 4; "A wonderful film. I loved it!" 6, "Unwanted running? No: a
  // great, great movie." 7, "Loved it" 2.
  std::multiset<std::pair<int64_t, int64_t>> seen;
  for (int i = 0; i < 6; ++i) {
    session->step();
    seen.emplace(s.input_ids().ne(0).sum().item<int64_t>(), s.labels()[0].item<int64_t>());
  }
  const std::multiset<std::pair<int64_t, int64_t>> expected = {{6, 0}, {32, 0}, {4, 0}, {6, 1}, {7, 1}, {2, 1}};
  EXPECT_EQ(seen, expected);
}

TEST(SmallTransformerImdb, MissingDataIsAnInputFileError) {
  testing::TempDir dir;
  EXPECT_THROW(small_transformer().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", dir.file("aclImdb")}), InputFileError);
}

TEST(SmallTransformerImdb, WeightsRoundTripThroughTheWorkload) {
  testing::TempDir dir;
  const std::string file = dir.file("small.safetensors");
  auto source = small_transformer().open("tiny", kCpu, Precision::fp32, {4});
  save_weights(source->model(), file);
  auto loaded = small_transformer().open("tiny", kCpu, Precision::fp32, OpenOptions{9, file, ""});
  const auto a = source->model().named_parameters();
  for (const auto& item : loaded->model().named_parameters())
    EXPECT_TRUE(item.value().equal(a[item.key()])) << item.key();
}

}  // namespace
}  // namespace mlspeed
