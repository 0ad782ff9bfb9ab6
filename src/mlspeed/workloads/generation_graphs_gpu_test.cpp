// CUDA graphs of the generation workloads on a real GPU (label gpu; skipped without a CUDA
// device): the prompt pass and the decode step at the cache's device position, recorded once and
// replayed, give exactly the tokens of the eager step (which decodes through the host-position
// path), in fp32 and bf16, over consecutive steps; and the runner's StepDriver records them.
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include "mlspeed/bench/step_driver.h"
#include "testing/generation_graphs.h"

namespace mlspeed {
namespace {

class GenerationGraphs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
  std::unique_ptr<GraphRecorder> recorder() const { return make_graph_recorder(gpu); }
  const c10::Device gpu{c10::DeviceType::CUDA, 0};
};

TEST_F(GenerationGraphs, Gpt2ReplaysGiveTheEagerTokens) {
  const auto make = [this] { return recorder(); };
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    testing::expect_replays_equal_eager({"gpt2-generate", "tiny", Shape{1, 4, 16}, precision}, gpu, make);
    testing::expect_replays_equal_eager({"gpt2-generate", "tiny", Shape{3, 5, 12}, precision}, gpu, make);
    testing::expect_replays_equal_eager({"gpt2-generate", "full", Shape{1, 4, 16}, precision}, gpu, make);
  }
}

TEST_F(GenerationGraphs, LlamaReplaysGiveTheEagerTokensAndLogits) {
  const auto make = [this] { return recorder(); };
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    // tiny has grouped-query attention (2 kv heads for 4); small is multi-head like 7B.
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{3, 0, 8}, precision}, gpu, make);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{2, 16, 0}, precision}, gpu, make);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "small", Shape{1, 0, 32}, precision}, gpu, make);
  }
}

// After a filled context (--depth): the graphs start at the depth.
TEST_F(GenerationGraphs, LlamaReplaysAtADepthGiveTheEagerTokensAndLogits) {
  const auto make = [this] { return recorder(); };
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{2, 0, 8, 40}, precision}, gpu, make);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "small", Shape{1, 0, 32, 1000}, precision}, gpu, make);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "small", Shape{1, 64, 0, 1000}, precision}, gpu, make);
  }
}

// Quantised weights: the CUDA matrix-vector kernels (or dequantise-then-matmul) recorded in the
// decode graph give the eager step's tokens.
TEST_F(GenerationGraphs, LlamaReplaysWithQuantisedWeightsGiveTheEagerTokens) {
  const auto make = [this] { return recorder(); };
  for (ModelFormat format : {ModelFormat::q4_0, ModelFormat::q8_0, ModelFormat::q4_k_m}) {
    for (Precision precision : {Precision::fp32, Precision::bf16}) {
      const Numerics numerics(precision, format);
      testing::expect_replays_equal_eager({"llama2-7b-generate", "small", Shape{1, 0, 32}, numerics}, gpu, make);
      testing::expect_replays_equal_eager({"llama2-7b-generate", "small", Shape{1, 128, 0}, numerics}, gpu, make);
    }
  }
}

// As the runner drives it: eager warm-up, then StepDriver::record() must end up replaying the
// session's own graphs (GraphUse::tokens), not eager steps with a note.
TEST_F(GenerationGraphs, StepDriverRecordsTheSessionsGraphs) {
  for (const testing::GraphCase& c : {testing::GraphCase{"gpt2-generate", "tiny", Shape{1, 4, 16}, Precision::bf16},
                                      testing::GraphCase{"llama2-7b-generate", "tiny", Shape{1, 0, 8}, Precision::bf16},
                                      testing::GraphCase{"llama2-7b-generate", "tiny", Shape{1, 16, 0}, Precision::bf16}}) {
    SCOPED_TRACE(testing::describe(c));
    auto session = testing::open_case(c, gpu);
    session->step();
    synchronize(gpu);
    const at::Tensor eager = session->last_output().clone();
    StepDriver driver(*session, gpu, /*graphs_asked=*/true);
    driver.warm_up();
    driver.record();
    EXPECT_EQ(driver.use(), GraphUse::tokens) << driver.note();
    driver.step();
    synchronize(gpu);
    testing::expect_same_output(session->last_output(), eager, "a step of the driver");
  }
}

}  // namespace
}  // namespace mlspeed
