// The reducer over Gloo, two ranks as two threads of this process (an in-process HashStore for the
// rendezvous) and as two processes (this test binary started again as each rank by the rank
// launcher, meeting through the launch's FileStore): each trains on half of a batch, and the averaged gradients
// must be those of one process on the whole batch.
#include "mlspeed/parallel/gradient_reducer.h"

#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "mlspeed/parallel/rank_launcher.h"
#include "testing/gloo_group.h"
#include "testing/test_support.h"

namespace mlspeed::parallel {
namespace {

constexpr int kRanks = 2, kBatch = 8;

// Seeding and drawing the weights is one step under a lock: LibTorch's generator is global, and
// ranks that are threads of one process would otherwise interleave their draws, and rank 0 (whose
// weights the broadcast gives everyone) would hold weights the whole-batch model never had.
torch::nn::Sequential small_model() {
  static std::mutex building;
  const std::lock_guard<std::mutex> lock(building);
  torch::manual_seed(7);
  return torch::nn::Sequential(torch::nn::Linear(5, 16), torch::nn::ReLU(), torch::nn::Linear(16, 3));
}

at::Tensor inputs() { return at::linspace(-2, 2, kBatch * 5).reshape({kBatch, 5}); }
at::Tensor targets() { return at::linspace(-1, 1, kBatch * 3).reshape({kBatch, 3}).cos(); }

// The gradients of the mean squared error over rows [begin, end) of the batch, by parameter.
void backward_on(torch::nn::Sequential& model, int64_t begin, int64_t end) {
  const at::Tensor out = model->forward(inputs().slice(0, begin, end));
  (out - targets().slice(0, begin, end)).pow(2).mean().backward();
}

#if MLSPEED_HAS_GLOO
// One rank's gradients after two backward passes on its half of the batch (the reducer is ready
// again after finish()), its weights first moved off rank 0's, which the broadcast undoes.
std::vector<at::Tensor> train_rank(const c10::intrusive_ptr<c10d::ProcessGroup>& group, int rank, int64_t cap) {
  torch::nn::Sequential model = small_model();
  if (rank == 1) {
    at::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(1.0);
  }
  GradientReducer reducer(model->parameters(), group, cap);
  reducer.broadcast_parameters();
  for (int step = 0; step < 2; ++step) {
    for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
    backward_on(model, rank * kBatch / kRanks, (rank + 1) * kBatch / kRanks);
    reducer.finish();
  }
  std::vector<at::Tensor> grads;
  for (auto& p : model->parameters()) grads.push_back(p.grad().clone());
  return grads;
}

std::vector<std::vector<at::Tensor>> reduced_in_threads(int64_t cap) {
  std::vector<std::vector<at::Tensor>> grads(kRanks);
  testing::on_thread_ranks(kRanks, [&](const c10::intrusive_ptr<c10d::ProcessGroup>& group, int rank) {
    grads[rank] = train_rank(group, rank, cap);
  });
  return grads;
}
#endif

// The gradients of one process on the whole batch.
std::vector<at::Tensor> whole_batch_gradients() {
  torch::nn::Sequential whole = small_model();
  backward_on(whole, 0, kBatch);
  std::vector<at::Tensor> grads;
  for (auto& p : whole->parameters()) grads.push_back(p.grad().clone());
  return grads;
}

void expect_equal_gradients(const std::vector<std::vector<at::Tensor>>& ranks, const std::vector<at::Tensor>& want) {
  ASSERT_EQ(ranks.size(), size_t{kRanks});
  for (int rank = 0; rank < kRanks; ++rank) {
    ASSERT_EQ(ranks[rank].size(), want.size()) << "rank " << rank;
    for (size_t k = 0; k < want.size(); ++k)
      EXPECT_TRUE(at::allclose(ranks[rank][k], want[k], 1e-5, 1e-6))
          << "rank " << rank << " parameter " << k << ": " << (ranks[rank][k] - want[k]).abs().max();
  }
}

TEST(GradientReducer, TwoRanksOnHalvesGiveTheGradientsOfOneProcessOnTheWholeBatch) {
#if MLSPEED_HAS_GLOO
  // One bucket for everything, and a bucket a parameter (several collectives in flight).
  for (int64_t cap : {kDefaultBucketBytes, int64_t{8}}) {
    SCOPED_TRACE("bucket cap " + std::to_string(cap));
    expect_equal_gradients(reduced_in_threads(cap), whole_batch_gradients());
  }
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

// Started by launch_ranks (parallel/rank_launcher.h) as its ranks, with MLSPEED_REDUCER_DIR set,
// this test is one rank of itself: it meets the other at the launch's FileStore and writes its
// gradients to DIR/rank<N>.bin as float32.
TEST(GradientReducer, TwoProcessesMeetingThroughAFileStoreGiveTheSameGradients) {
#if MLSPEED_HAS_GLOO
  if (const RankPlace place = rank_place(); place.world_size > 0) {
    die_with_launcher();
    const std::string dir = std::getenv("MLSPEED_REDUCER_DIR");
    auto store = c10::make_intrusive<c10d::FileStore>(place.rendezvous, place.world_size);
    std::ofstream out(dir + "/rank" + std::to_string(place.rank) + ".bin", std::ios::binary);
    for (const at::Tensor& g : train_rank(testing::gloo_group(store, place.rank, place.world_size), place.rank, 8))
      out.write(static_cast<const char*>(g.contiguous().data_ptr()), static_cast<std::streamsize>(g.nbytes()));
    return;
  }
  testing::TempDir dir;
  LaunchRequest launch;
  launch.world_size = kRanks;
  launch.program = std::filesystem::read_symlink("/proc/self/exe").string();
  launch.args = {"--gtest_filter=GradientReducer.TwoProcessesMeetingThroughAFileStoreGiveTheSameGradients"};
  launch.env = {{"MLSPEED_REDUCER_DIR", dir.path()}};
  launch.timeout = std::chrono::minutes(2);
  const LaunchOutcome outcome = launch_ranks(launch);
  ASSERT_TRUE(outcome.ok()) << outcome.failure() << "\n" << outcome.ranks[0].err << outcome.ranks[1].err;
  const std::vector<at::Tensor> want = whole_batch_gradients();
  std::vector<std::vector<at::Tensor>> got(kRanks);
  for (int rank = 0; rank < kRanks; ++rank) {
    const std::string bytes = testing::read_file(dir.path() + "/rank" + std::to_string(rank) + ".bin");
    int64_t at_byte = 0;
    for (const at::Tensor& w : want) {
      ASSERT_LE(at_byte + static_cast<int64_t>(w.nbytes()), static_cast<int64_t>(bytes.size())) << "rank " << rank;
      got[rank].push_back(at::empty_like(w));
      std::memcpy(got[rank].back().data_ptr(), bytes.data() + at_byte, w.nbytes());
      at_byte += static_cast<int64_t>(w.nbytes());
    }
  }
  expect_equal_gradients(got, want);
#else
  GTEST_SKIP() << "Gloo's headers and library (Debian: libgloo-dev) are not installed";
#endif
}

}  // namespace
}  // namespace mlspeed::parallel
