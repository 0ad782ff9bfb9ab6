// The group's yes-or-no question (every_rank_says), over Gloo, two ranks as threads of this
// process: a data-parallel rank replays its CUDA graph only when every rank recorded one.
#include "mlspeed/parallel/process_groups.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "testing/gloo_group.h"

namespace mlspeed::parallel {
namespace {

#if MLSPEED_HAS_GLOO
// Each rank's answer when rank r says says[r].
std::vector<bool> answers(const std::vector<bool>& says) {
  const int ranks = static_cast<int>(says.size());
  std::mutex mutex;
  std::vector<bool> got(says.size());
  testing::on_thread_ranks(ranks, [&](const c10::intrusive_ptr<c10d::ProcessGroup>& group, int rank) {
    const bool answer = every_rank_says(*group, says[rank], at::TensorOptions());
    const std::lock_guard<std::mutex> lock(mutex);
    got[rank] = answer;
  });
  return got;
}
#endif

TEST(ProcessGroups, EveryRankHearsYesOnlyWhenEveryRankSaysIt) {
#if MLSPEED_HAS_GLOO
  EXPECT_EQ(answers({true, true}), (std::vector<bool>{true, true}));
  EXPECT_EQ(answers({true, false}), (std::vector<bool>{false, false}));
  EXPECT_EQ(answers({false, true}), (std::vector<bool>{false, false}));
  EXPECT_EQ(answers({false, false}), (std::vector<bool>{false, false}));
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

}  // namespace
}  // namespace mlspeed::parallel
