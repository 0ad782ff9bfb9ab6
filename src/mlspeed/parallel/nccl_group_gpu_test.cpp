// The data-parallel pieces over NCCL on the one-GPU machine (label gpu): a ProcessGroupNCCL of
// world size 1 on cuda:0, meeting through an in-process HashStore. The reducer's hooks, buckets and
// asynchronous all-reduces run through NCCL and leave the gradients of plain training on the same
// batch (the average over one rank is the rank's own); the bandwidth probe's all-reduces run and
// report busbw 0 (one rank: nothing crosses a link). Two GPUs need a multi-GPU machine; this is
// what one GPU can prove. Only where CMake found NCCL's header (MLSPEED_HAS_NCCL): LibTorch's
// ProcessGroupNCCL header includes nccl.h.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#if MLSPEED_HAS_NCCL
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/parallel/allreduce_probe.h"
#include "mlspeed/parallel/gradient_reducer.h"

namespace mlspeed::parallel {
namespace {

#if MLSPEED_HAS_NCCL
torch::nn::Sequential cuda_model() {
  torch::manual_seed(11);
  torch::nn::Sequential model(torch::nn::Linear(64, 256), torch::nn::GELU(), torch::nn::Linear(256, 10));
  model->to(at::kCUDA);
  return model;
}

// Gradients of the mean squared error of `model` on a fixed batch, by parameter.
std::vector<at::Tensor> gradients_after_backward(torch::nn::Sequential& model) {
  const auto cuda = at::TensorOptions(at::kFloat).device(at::kCUDA);
  const at::Tensor x = at::linspace(-3, 3, 32 * 64, cuda).reshape({32, 64}).sin();
  const at::Tensor y = at::linspace(-1, 1, 32 * 10, cuda).reshape({32, 10});
  for (auto& p : model->parameters()) p.mutable_grad() = at::Tensor();
  (model->forward(x) - y).pow(2).mean().backward();
  std::vector<at::Tensor> grads;
  for (auto& p : model->parameters()) grads.push_back(p.grad().clone());
  return grads;
}

// World size 1 on cuda:0, and its NCCL backend (shut down at the end: NCCL warns of a communicator
// destroyed without it).
struct OneRank {
  c10::intrusive_ptr<c10d::Store> store = c10::make_intrusive<c10d::HashStore>();
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, 0, 1);
  c10::intrusive_ptr<c10d::ProcessGroup> group =
      compat::process_group<c10d::ProcessGroup>(store, 0, 1, nccl, c10::kCUDA, "nccl");
  ~OneRank() { nccl->shutdown(); }
};
#endif

TEST(NcclGroup, OneRankTrainsAsOneProcessDoes) {
#if MLSPEED_HAS_NCCL
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::nn::Sequential plain = cuda_model(), reduced = cuda_model();
  const std::vector<at::Tensor> want = gradients_after_backward(plain);
  OneRank one;
  {
    // A bucket a parameter: four all-reduces in flight on NCCL's stream during the backward pass.
    GradientReducer reducer(reduced->parameters(), one.group, 8);
    ASSERT_EQ(reducer.buckets().size(), want.size());
    reducer.broadcast_parameters();
    for (int step = 0; step < 2; ++step) {
      const std::vector<at::Tensor> got = gradients_after_backward(reduced);
      reducer.finish();
      for (size_t k = 0; k < want.size(); ++k) {
        const at::Tensor g = reduced->parameters()[k].grad();
        EXPECT_TRUE(g.is_cuda());
        EXPECT_TRUE(at::equal(g, want[k])) << "step " << step << " parameter " << k << ": "
                                           << (g - want[k]).abs().max().item<float>();
        EXPECT_TRUE(at::equal(got[k], want[k])) << "the backward pass itself, step " << step;
      }
    }
  }
#else
  GTEST_SKIP() << "built without NCCL's header (nccl.h, from the nvidia-nccl package beside PyTorch)";
#endif
}

TEST(NcclGroup, TheProbeTimesOneRanksAllreduce) {
#if MLSPEED_HAS_NCCL
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  OneRank one;
  const AllreduceBandwidth bw = probe_allreduce(*one.group, 64 << 20, at::TensorOptions().device(at::kCUDA), 10, 2);
  RecordProperty("algbw_gb_s", std::to_string(bw.algbw_gb_s));
  EXPECT_EQ(bw.world_size, 1);
  EXPECT_EQ(bw.bytes, 64 << 20);
  EXPECT_GT(bw.seconds, 0);
  EXPECT_GT(bw.algbw_gb_s, 0);
  EXPECT_EQ(bw.busbw_gb_s, 0) << "one rank: nothing crosses a link";
#else
  GTEST_SKIP() << "built without NCCL's header (nccl.h, from the nvidia-nccl package beside PyTorch)";
#endif
}

}  // namespace
}  // namespace mlspeed::parallel
