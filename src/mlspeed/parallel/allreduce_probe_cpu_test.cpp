// The all-reduce probe over Gloo, two ranks as threads of this process.
#include "mlspeed/parallel/allreduce_probe.h"

#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "testing/gloo_group.h"

namespace mlspeed::parallel {
namespace {

TEST(AllreduceProbe, EveryRankReportsTheSlowestRanksTimeAndTheBandwidthsFollowFromIt) {
#if MLSPEED_HAS_GLOO
  constexpr int kRanks = 2;
  constexpr int64_t kBytes = int64_t{1} << 20;
  std::mutex mutex;
  std::vector<AllreduceBandwidth> results(kRanks);
  testing::on_thread_ranks(kRanks, [&](const c10::intrusive_ptr<c10d::ProcessGroup>& group, int rank) {
    const AllreduceBandwidth r = probe_allreduce(*group, kBytes, at::TensorOptions(), 4, 1);
    const std::lock_guard<std::mutex> lock(mutex);
    results[rank] = r;
  });
  for (const AllreduceBandwidth& r : results) {
    EXPECT_EQ(r.bytes, kBytes);
    EXPECT_EQ(r.world_size, kRanks);
    EXPECT_EQ(r.iterations, 4);
    EXPECT_GT(r.seconds, 0);
    EXPECT_DOUBLE_EQ(r.algbw_gb_s, kBytes / r.seconds / 1e9);
    EXPECT_DOUBLE_EQ(r.busbw_gb_s, r.algbw_gb_s);  // 2 (n - 1) / n = 1 for two ranks
    EXPECT_EQ(r.seconds, results[0].seconds);       // the slowest rank's time, on every rank
  }
  EXPECT_THROW(probe_allreduce(*testing::gloo_group(c10::make_intrusive<c10d::HashStore>(), 0, 1), 2,
                               at::TensorOptions()),
               c10::Error);
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

}  // namespace
}  // namespace mlspeed::parallel
