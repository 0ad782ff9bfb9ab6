// Data-parallel training as `run --ddp` does it, against one process on the combined batch:
// ranks started by the rank launcher (this test binary again, with a gtest filter naming the test
// itself), each joining the group through RankRole (NCCL on CUDA, Gloo on the CPU), training
// gpt2-train tiny for kSteps AdamW steps on its rows of the combined batch (after the first, as
// replays of a CUDA graph on a GPU, as `run` steps), and writing its loss at every step to
// DIR/rank<N>.txt and how it stepped to DIR/rank<N>.graphs. The test compares the ranks' mean
// loss with one process's on the combined batch, step by step.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mlspeed/bench/data_parallel.h"
#include "mlspeed/bench/step_driver.h"
#include "mlspeed/parallel/rank_launcher.h"
#include "mlspeed/workloads/training_session.h"
#include "testing/catalogue.h"
#include "testing/test_support.h"

namespace mlspeed::testing {

inline constexpr int kDataParallelSteps = 20;
inline constexpr int64_t kStepsRankBatch = 4, kStepSeq = 32;

// The loss of every step of gpt2-train tiny on `device` in `precision`, `batch` rows a step; as
// rank `place` (its reducer attached) when place.world_size > 0. The steps run as `run` runs them:
// the first eager, the rest replays of a CUDA graph where the device has them (the all-reduces
// inside it); `use` (when given) says which.
inline std::vector<double> gpt2_losses(const DeviceFacts& device, Precision precision, int64_t batch,
                                       const parallel::RankPlace& place = {}, GraphUse* use = nullptr) {
  std::unique_ptr<RankRole> role;
  if (place.world_size > 0) role = std::make_unique<RankRole>(place, device, std::chrono::minutes(1));
  const std::unique_ptr<Session> session =
      catalogue_workload("gpt2-train").open("tiny", torch_device(device), Numerics(precision), {11});
  if (role) role->attach(*session);
  session->prepare(Shape{batch, kStepSeq});
  std::vector<double> losses;
  auto& training = dynamic_cast<TrainingSessionBase&>(*session);
  StepDriver driver(*session, torch_device(device), /*graphs_asked=*/true);
  for (int step = 0; step < kDataParallelSteps; ++step) {
    if (step == 0) {
      driver.warm_up();
    } else {
      if (step == 1) driver.record();
      driver.step();
    }
    losses.push_back(training.last_loss().item<double>());
  }
  if (use) *use = driver.use();
  return losses;
}

// In a rank (MLSPEED_DDP_STEPS_DIR set by the launching test): trains and writes its losses; true.
// Elsewhere: false, and the test launches the ranks itself.
inline bool run_as_rank(const DeviceFacts& device, Precision precision) {
  const char* dir = std::getenv("MLSPEED_DDP_STEPS_DIR");
  const parallel::RankPlace place = parallel::rank_place();
  if (!dir || place.world_size == 0) return false;
  parallel::die_with_launcher();
  GraphUse use = GraphUse::off;
  const std::vector<double> losses = gpt2_losses(device, precision, kStepsRankBatch, place, &use);
  const std::string stem = std::string(dir) + "/rank" + std::to_string(place.rank);
  std::ofstream out(stem + ".txt");
  out.precision(17);
  for (double loss : losses) out << loss << "\n";
  std::ofstream(stem + ".graphs") << name(use);
  return true;
}

// Launches `ranks` ranks of the running test and returns each rank's losses, by rank; `uses` (when
// given) gets how each rank stepped ("step": replays of a CUDA graph; "off": eager, no graphs here).
inline std::vector<std::vector<double>> launch_training_ranks(int ranks, const std::vector<std::string>& gpus = {},
                                                              std::vector<std::string>* uses = nullptr) {
  TempDir dir;
  parallel::LaunchRequest launch;
  launch.world_size = ranks;
  launch.program = std::filesystem::read_symlink("/proc/self/exe").string();
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  launch.args = {std::string("--gtest_filter=") + test->test_suite_name() + "." + test->name()};
  launch.env = {{"MLSPEED_DDP_STEPS_DIR", dir.path()}};
  for (const std::string& gpu : gpus) launch.rank_env.push_back({{"CUDA_VISIBLE_DEVICES", gpu}});
  launch.timeout = std::chrono::minutes(5);
  const parallel::LaunchOutcome outcome = parallel::launch_ranks(launch);
  EXPECT_TRUE(outcome.ok()) << outcome.failure() << "\n" << outcome.ranks.front().err;
  std::vector<std::vector<double>> losses(static_cast<size_t>(ranks));
  for (int r = 0; r < ranks && outcome.ok(); ++r) {
    std::istringstream in(read_file(dir.file("rank" + std::to_string(r) + ".txt")));
    for (double loss; in >> loss;) losses[r].push_back(loss);
    if (uses) uses->push_back(read_file(dir.file("rank" + std::to_string(r) + ".graphs")));
  }
  return losses;
}

// The ranks' mean loss at every step against one process's on the combined batch, within `tolerance`
// (relative).
inline void expect_mean_loss_of_ranks(const std::vector<std::vector<double>>& ranks, const std::vector<double>& whole,
                                      double tolerance) {
  ASSERT_EQ(whole.size(), static_cast<size_t>(kDataParallelSteps));
  for (const auto& rank : ranks) ASSERT_EQ(rank.size(), whole.size());
  for (size_t step = 0; step < whole.size(); ++step) {
    double mean = 0;
    for (const auto& rank : ranks) mean += rank[step] / static_cast<double>(ranks.size());
    EXPECT_NEAR(mean, whole[step], tolerance * std::abs(whole[step])) << "step " << step;
  }
  EXPECT_LT(whole.back(), whole.front()) << "the model learns: the comparison is of a moving loss";
}

}  // namespace mlspeed::testing
