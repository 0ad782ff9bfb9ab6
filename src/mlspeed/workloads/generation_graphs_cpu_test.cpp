// The generation sessions' graph bookkeeping on the CPU, with a stand-in recorder: "recording"
// keeps the work and a replay runs it again. What is checked is what the sessions record (the
// prompt pass, the decode step at the cache's device position, the static token buffers) and
// that replaying it gives the eager step's output exactly, batch > 1 and grouped-query attention
// included; that the recorded work can really be captured is for the gpu test
// (generation_graphs_gpu_test.cpp).
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "testing/generation_graphs.h"

namespace mlspeed {
namespace {

class RerunGraph : public Graph {
 public:
  explicit RerunGraph(std::function<void()> work) : work_(std::move(work)) {}
  void replay() override { work_(); }

 private:
  std::function<void()> work_;
};

class RerunRecorder : public GraphRecorder {
 public:
  void warm_up(const std::function<void()>& work) override { work(); }
  std::unique_ptr<Graph> record(const std::function<void()>& work) override {
    return std::make_unique<RerunGraph>(work);  // as CUDA: recording runs nothing
  }
};

std::unique_ptr<GraphRecorder> rerun_recorder() { return std::make_unique<RerunRecorder>(); }

const c10::Device cpu(c10::kCPU);

TEST(GenerationGraphsOnCpu, Gpt2ReplaysGiveTheEagerTokens) {
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    testing::expect_replays_equal_eager({"gpt2-generate", "tiny", Shape{3, 5, 12}, precision}, cpu, rerun_recorder);
    testing::expect_replays_equal_eager({"gpt2-generate", "tiny", Shape{1, 4, 16}, precision}, cpu, rerun_recorder);
  }
  // One new token: the prompt graph alone.
  testing::expect_replays_equal_eager({"gpt2-generate", "tiny", Shape{2, 4, 1}, Precision::fp32}, cpu, rerun_recorder);
}

TEST(GenerationGraphsOnCpu, LlamaReplaysGiveTheEagerTokensAndLogits) {
  // tiny has grouped-query attention (2 kv heads for 4).
  for (Precision precision : {Precision::fp32, Precision::bf16}) {
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{3, 0, 8}, precision}, cpu,
                                        rerun_recorder);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{2, 16, 0}, precision}, cpu,
                                        rerun_recorder);
  }
  testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{2, 0, 1}, Precision::fp32}, cpu,
                                      rerun_recorder);
}

TEST(GenerationGraphsOnCpu, LlamaReplaysAtADepthGiveTheEagerTokensAndLogits) {
  // After 40 positions of context: the graphs start at the depth, and the output's columns
  // follow the device position less the depth.
  testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{2, 0, 8, 40}, Precision::fp32}, cpu,
                                      rerun_recorder);
  testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{1, 16, 0, 40}, Precision::fp32}, cpu,
                                      rerun_recorder);
}

TEST(GenerationGraphsOnCpu, LlamaReplaysWithQuantisedWeightsGiveTheEagerTokens) {
  for (ModelFormat format : {ModelFormat::q4_0, ModelFormat::q8_0, ModelFormat::q4_k_m}) {
    const Numerics numerics(Precision::fp32, format);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{2, 0, 8}, numerics}, cpu, rerun_recorder);
    testing::expect_replays_equal_eager({"llama2-7b-generate", "tiny", Shape{1, 16, 0}, numerics}, cpu, rerun_recorder);
  }
}

TEST(GenerationGraphsOnCpu, RecordingDoesNotRunTheStep) {
  auto session = testing::open_case({"gpt2-generate", "tiny", Shape{2, 4, 6}, Precision::fp32}, cpu);
  session->step();
  const at::Tensor eager = session->last_output().clone();
  RerunRecorder recorder;
  session->record_graphs(recorder);
  session->last_output().fill_(-1);  // a step must write every token, from the replays alone
  session->step();
  EXPECT_TRUE(session->last_output().equal(eager));
}

}  // namespace
}  // namespace mlspeed
