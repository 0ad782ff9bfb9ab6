#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/gpt2_generate.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

const Workload& gpt2_generate() { return testing::catalogue_workload("gpt2-generate"); }

gpt2::GenerationSession& as_generation(Session& session) { return dynamic_cast<gpt2::GenerationSession&>(session); }

std::unique_ptr<Session> open_tiny_gpt2(uint64_t seed, Precision precision = Precision::fp32,
                                   const std::string& weights = "") {
  return gpt2_generate().open("tiny", c10::Device(c10::kCPU), precision, {seed, weights});
}

std::vector<int64_t> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// Greedy decoding as the textbook writes it, with no cache: the whole sequence through the model
// for every new token, the argmax of the last position's logits appended.
std::vector<int64_t> gpt2_greedy_without_cache(gpt2::GPT2Model& model, std::vector<int64_t> sequence, int64_t new_tokens,
                                          std::vector<double>* margins = nullptr) {
  c10::InferenceMode inference;
  const size_t prompt = sequence.size();
  for (int64_t i = 0; i < new_tokens; ++i) {
    const at::Tensor logits = model->forward(at::tensor(sequence, at::kLong).unsqueeze(0))[0][-1];
    sequence.push_back(logits.argmax().item<int64_t>());
    if (margins) {
      const at::Tensor top2 = std::get<0>(logits.to(at::kFloat).topk(2));
      margins->push_back((top2[0] - top2[1]).item<float>());
    }
  }
  return std::vector<int64_t>(sequence.begin() + static_cast<std::ptrdiff_t>(prompt), sequence.end());
}

TEST(Gpt2Generate, DescribesItself) {
  const Workload& w = gpt2_generate();
  EXPECT_EQ(w.job(), Job::infer);
  EXPECT_EQ(w.item_unit(), "tokens");
  const WorkloadSize* full = find_size(w, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->parameters, 124'439'808);
  EXPECT_EQ(full->batches, std::vector<int64_t>{1});
  EXPECT_EQ(full->seqs, std::vector<int64_t>{4});  // "The rain in Spain"
  EXPECT_EQ(full->new_tokens, std::vector<int64_t>{16});
  EXPECT_EQ(full->max_seq, 1024);
  EXPECT_EQ(workload_names().back(), "gpt2-generate");
  EXPECT_EQ(w.items_per_step(Shape{2, 4, 16}), 32.0);  // generated tokens
}

TEST(Gpt2Generate, ShapesAreEverySeqByNewTokensByBatch) {
  const WorkloadSize& full = *find_size(gpt2_generate(), "full");
  const std::vector<Shape> defaults = gpt2_generate().shapes(full, {});
  ASSERT_EQ(defaults.size(), 1u);
  EXPECT_EQ(defaults[0].batch, 1);
  EXPECT_EQ(defaults[0].seq, 4);
  EXPECT_EQ(defaults[0].new_tokens, 16);
  const std::vector<Shape> swept = gpt2_generate().shapes(full, ShapeRequest{{1, 8}, {4, 128}, {16, 64}});
  ASSERT_EQ(swept.size(), 8u);
  std::vector<std::vector<int64_t>> got;
  for (const Shape& s : swept) got.push_back({s.seq, s.new_tokens, s.batch});
  EXPECT_EQ(
      got,
      (std::vector<std::vector<int64_t>>{
          {4, 16, 1}, {4, 16, 8}, {4, 64, 1}, {4, 64, 8}, {128, 16, 1}, {128, 16, 8}, {128, 64, 1}, {128, 64, 8}}));
  // Only the lists given replace the defaults.
  const std::vector<Shape> only_tokens = gpt2_generate().shapes(full, ShapeRequest{{}, {}, {32}});
  ASSERT_EQ(only_tokens.size(), 1u);
  EXPECT_EQ(only_tokens[0].seq, 4);
  EXPECT_EQ(only_tokens[0].new_tokens, 32);
}

TEST(Gpt2Generate, FlopsPerTokenOfTheRainInSpain) {
  // gpt2::generation_flops(GPT-2 small, 4, 16) = 4,474,248,192 over 16 new tokens.
  EXPECT_DOUBLE_EQ(gpt2_generate().flops_per_item("full", Shape{1, 4, 16}), 279'640'512.0);
  EXPECT_DOUBLE_EQ(gpt2_generate().flops_per_item("full", Shape{8, 4, 16}), 279'640'512.0);  // per token at any batch
}

TEST(Gpt2Generate, MemoryEstimateCountsWeightsAndTheCache) {
  const auto fp32 = gpt2_generate().memory_estimate("full", Shape{1, 4, 16}, Precision::fp32);
  ASSERT_TRUE(fp32);
  EXPECT_EQ(fp32->model, 4 * int64_t{124'439'808});
  EXPECT_GE(fp32->per_step, 2 * 12 * 20 * 768 * 4);  // keys and values of 12 layers, 20 positions
  const auto fp16 = gpt2_generate().memory_estimate("full", Shape{1, 4, 16}, Precision::fp16);
  EXPECT_EQ(fp16->model, 2 * int64_t{124'439'808});
  EXPECT_GT(gpt2_generate().memory_estimate("full", Shape{8, 512, 512}, Precision::fp32)->per_step, fp32->per_step);
}

// The roofline of a decode step, counted independently: every parameter of the built model but
// wpe (wte is the tied head, read whole), shared by the batch, plus the keys and values each
// decode step attends over, averaged over the steps.
TEST(Gpt2Generate, BytesPerTokenAreTheWeightsAndTheCacheADecodeStepReads) {
  auto session = open_tiny_gpt2(1);
  const gpt2::GPT2ModelImpl& model = *as_generation(*session).gpt2();
  double weights = 0;
  for (const auto& item : model.named_parameters())
    if (item.key() != "wpe.weight") weights += double(item.value().numel());
  const gpt2::GPT2Config& c = model.config();
  for (int64_t batch : {1, 3}) {
    const Shape shape{batch, 5, 12};
    double cache = 0;  // decode step j feeds position 5 + j - 1 and attends over 5 + j positions
    for (int64_t j = 1; j < 12; ++j) cache += 2.0 * double(c.n_layer) * double(c.n_embd) * double(5 + j);
    cache /= 11;
    EXPECT_NEAR(gpt2_generate().bytes_per_item("tiny", shape, Precision::fp32), (weights / double(batch) + cache) * 4, 1e-6);
    EXPECT_NEAR(gpt2_generate().bytes_per_item("tiny", shape, Precision::bf16), (weights / double(batch) + cache) * 2, 1e-6);
  }
  // GPT-2 small, "The rain in Spain" in bf16: (123,653,376 + 2 * 12 * 768 * (4 + 16 / 2)) * 2.
  EXPECT_DOUBLE_EQ(gpt2_generate().bytes_per_item("full", Shape{1, 4, 16}, Precision::bf16), 247'749'120.0);
  EXPECT_EQ(gpt2_generate().bytes_per_item("full", Shape{1, 4, 1}, Precision::bf16), 0.0) << "no decode step";
}

TEST(Gpt2Generate, StepEqualsGreedyDecodingWithoutACache) {
  auto session = open_tiny_gpt2(4);
  auto& generation = as_generation(*session);
  session->prepare(Shape{3, 5, 12});
  session->step();
  const at::Tensor tokens = session->last_output();
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{3, 12}));
  ASSERT_TRUE(session->last_first_token_ms().has_value());
  EXPECT_GE(*session->last_first_token_ms(), 0.0);
  for (int64_t row = 0; row < 3; ++row)
    EXPECT_EQ(to_vector(tokens[row]), gpt2_greedy_without_cache(generation.gpt2(), to_vector(generation.prompt()[row]), 12))
        << "row " << row;
  // A second step starts again from an empty cache: the same tokens.
  const at::Tensor first = tokens.clone();
  session->step();
  EXPECT_TRUE(session->last_output().equal(first));
}

TEST(Gpt2Generate, GeneratorEqualsTheStepAndReportsMargins) {
  auto session = open_tiny_gpt2(5);
  auto& generation = as_generation(*session);
  session->prepare(Shape{1, 4, 16});
  session->step();
  Generator* generator = session->generator();
  ASSERT_NE(generator, nullptr);
  EXPECT_EQ(generator->vocab_size(), 512);
  EXPECT_EQ(generator->max_positions(), 64);
  const std::vector<int64_t> prompt = to_vector(generation.prompt()[0]);
  const Generation g = generator->greedy(prompt, 16);
  EXPECT_EQ(g.tokens, to_vector(session->last_output()[0]));
  std::vector<double> margins;
  EXPECT_EQ(g.tokens, gpt2_greedy_without_cache(generation.gpt2(), prompt, 16, &margins));
  ASSERT_EQ(g.top2_margins.size(), 16u);
  for (size_t i = 0; i < margins.size(); ++i) {
    EXPECT_GE(g.top2_margins[i], 0.0);
    EXPECT_NEAR(g.top2_margins[i], margins[i], 1e-4) << "token " << i;
  }
  EXPECT_GE(g.first_token_ms, 0.0);
  EXPECT_GE(g.total_ms, g.first_token_ms);
}

TEST(Gpt2Generate, SameSeedSameTokens) {
  std::vector<std::vector<int64_t>> runs;
  for (uint64_t seed : {7, 7, 8}) {
    auto session = open_tiny_gpt2(seed);
    runs.push_back(session->generator()->greedy({1, 2, 3, 4}, 10).tokens);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0], runs[2]);
}

TEST(Gpt2Generate, GeneratorRefusesBadPrompts) {
  auto session = open_tiny_gpt2(1);
  Generator& g = *session->generator();
  EXPECT_THROW(g.greedy({}, 4), std::invalid_argument);
  EXPECT_THROW(g.greedy({1, 512}, 4), std::invalid_argument);  // vocab 512
  EXPECT_THROW(g.greedy({-1}, 4), std::invalid_argument);
  EXPECT_THROW(g.greedy({1, 2, 3, 4}, 61), std::invalid_argument);  // 65 positions of 64
  EXPECT_EQ(g.greedy({1, 2, 3, 4}, 60).tokens.size(), 60u);         // exactly 64 fits
}

TEST(Gpt2Generate, BadShapesAreRefused) {
  auto session = open_tiny_gpt2(1);
  EXPECT_THROW(session->step(), c10::Error);  // not prepared
  EXPECT_THROW(session->prepare(Shape{1, 4, 0}), c10::Error);
  EXPECT_THROW(session->prepare(Shape{1, 60, 5}), c10::Error);  // 65 positions of 64
  EXPECT_THROW(gpt2_generate().open("huge", c10::Device(c10::kCPU), Precision::fp32, {1}), std::invalid_argument);
}

TEST(Gpt2Generate, BFloat16CastsTheModelAndGenerates) {
  auto session = open_tiny_gpt2(2, Precision::bf16);
  auto& generation = as_generation(*session);
  EXPECT_EQ(generation.gpt2()->wte->weight.scalar_type(), at::kBFloat16);
  session->prepare(Shape{2, 4, 8});
  session->step();
  const at::Tensor tokens = session->last_output();
  EXPECT_EQ(tokens.sizes(), (std::vector<int64_t>{2, 8}));
  EXPECT_TRUE(((tokens >= 0) & (tokens < 512)).all().item<bool>());
  const Generation g = session->generator()->greedy({5, 6, 7}, 8);
  EXPECT_EQ(g.tokens.size(), 8u);
}

TEST(Gpt2Generate, SavedWeightsGiveTheSameTokens) {
  testing::TempDir dir;
  const std::string path = dir.file("tiny.safetensors");
  auto source = open_tiny_gpt2(21);
  save_weights(source->model(), path);
  auto other = open_tiny_gpt2(22);
  auto loaded = open_tiny_gpt2(22, Precision::fp32, path);
  const std::vector<int64_t> prompt = {464, 290, 287, 502};
  const auto expected = source->generator()->greedy(prompt, 12).tokens;
  EXPECT_EQ(loaded->generator()->greedy(prompt, 12).tokens, expected);
  EXPECT_NE(other->generator()->greedy(prompt, 12).tokens, expected);
}

}  // namespace
}  // namespace mlspeed
