// Data-parallel training through the training session (set_data_parallel) and the gradient
// reducer over Gloo, on the CPU: two ranks, threads of this process, each train gpt2-train on its
// half of the batch, and after three optimizer steps every parameter is what one process training
// on the whole batch holds, and the ranks' mean loss is its loss at every step. gpt2-train has no
// dropout, so both sides compute the same function; a model with dropout or BatchNorm (ResNet
// normalises over each rank's rows, as PyTorch's DDP does without SyncBatchNorm) trains the same
// way but not to the same numbers.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <vector>

#include "mlspeed/parallel/gradient_reducer.h"
#include "mlspeed/workloads/training_session.h"
#include "testing/catalogue.h"
#include "testing/gloo_group.h"

namespace mlspeed {
namespace {

constexpr int kSteps = 3, kRanks = 2;
constexpr int64_t kRankBatch = 3, kSeq = 16;

struct Trained {
  std::vector<double> losses;  // by step
  std::vector<at::Tensor> params;
};

// Opens tiny gpt2-train on the CPU in fp32; `configure` (may be empty) runs before prepare().
// Models are built one at a time: their initialisation draws from LibTorch's global generator,
// which ranks that are threads of one process would otherwise share at once (processes do not).
Trained train(int64_t batch, const std::function<void(TrainingSessionBase&)>& configure) {
  static std::mutex building;
  std::unique_ptr<Session> session;
  {
    const std::lock_guard<std::mutex> lock(building);
    session = testing::catalogue_workload("gpt2-train").open("tiny", c10::Device(c10::kCPU),
                                                             Numerics(Precision::fp32), {7});
  }
  auto& training = dynamic_cast<TrainingSessionBase&>(*session);
  if (configure) configure(training);
  session->prepare(Shape{batch, kSeq});
  Trained out;
  for (int step = 0; step < kSteps; ++step) {
    session->step();
    out.losses.push_back(training.last_loss().item<double>());
  }
  for (const at::Tensor& p : training.trained_parameters()) out.params.push_back(p.detach().clone());
  return out;
}

TEST(DataParallelTraining, TwoRanksOnHalvesTrainAsOneProcessOnTheWholeBatch) {
#if MLSPEED_HAS_GLOO
  const Trained whole = train(kRanks * kRankBatch, {});
  std::vector<Trained> ranks(kRanks);
  testing::on_thread_ranks(kRanks, [&](const c10::intrusive_ptr<c10d::ProcessGroup>& group, int rank) {
    std::unique_ptr<parallel::GradientReducer> reducer;
    ranks[rank] = train(kRankBatch, [&](TrainingSessionBase& session) {
      reducer = std::make_unique<parallel::GradientReducer>(session.trained_parameters(), group);
      reducer->broadcast_parameters();
      session.set_data_parallel(rank, kRanks, [&] { reducer->finish(); });
    });
  });
  for (int step = 0; step < kSteps; ++step)
    EXPECT_NEAR((ranks[0].losses[step] + ranks[1].losses[step]) / 2, whole.losses[step], 1e-5) << "step " << step;
  EXPECT_NE(ranks[0].losses[0], ranks[1].losses[0]) << "each rank trains on rows of its own";
  for (int rank = 0; rank < kRanks; ++rank)
    for (size_t k = 0; k < whole.params.size(); ++k)
      EXPECT_TRUE(at::allclose(ranks[rank].params[k], whole.params[k], 1e-4, 1e-6))
          << "rank " << rank << " parameter " << k << ": " << (ranks[rank].params[k] - whole.params[k]).abs().max();
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

// A rank's step is recorded (or not) as one process's is; whether it is replayed is the group's
// answer, asked through `agree`.
TEST(DataParallelTraining, ARankRecordsAsOneProcessDoesAndAsksItsGroupWhetherToReplay) {
  const auto open = [] {
    return testing::catalogue_workload("gpt2-train").open("tiny", c10::Device(c10::kCPU), Numerics(Precision::fp32),
                                                          {7});
  };
  const std::unique_ptr<Session> alone = open(), session = open();
  auto& training = dynamic_cast<TrainingSessionBase&>(*session);
  std::vector<bool> asked;
  training.set_data_parallel(0, 2, [] {}, [&](bool recorded) {
    asked.push_back(recorded);
    return false;  // a peer failed
  });
  EXPECT_EQ(training.graph_support().scope, alone->graph_support().scope);
  EXPECT_EQ(training.graph_support().reason, alone->graph_support().reason);
  EXPECT_FALSE(training.every_rank_recorded(true));
  EXPECT_EQ(asked, std::vector<bool>{true});
  EXPECT_TRUE(alone->every_rank_recorded(true));
  EXPECT_FALSE(alone->every_rank_recorded(false));
}

TEST(DataParallelTraining, ARankRefusesAPlaceOutsideItsGroup) {
  const std::unique_ptr<Session> session =
      testing::catalogue_workload("gpt2-train").open("tiny", c10::Device(c10::kCPU), Numerics(Precision::fp32), {7});
  auto& training = dynamic_cast<TrainingSessionBase&>(*session);
  EXPECT_THROW(training.set_data_parallel(2, 2, [] {}), c10::Error);
}

}  // namespace
}  // namespace mlspeed
