// CUDA graphs on a real GPU (label gpu): a step replayed from a graph computes what the eager
// step computes — the loss after several training steps, an inference output — for every
// workload whose step is recorded whole. Without a CUDA device every test here is skipped.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include <string>
#include <vector>

#include "mlspeed/bench/step_driver.h"
#include "mlspeed/device/device.h"
#include "mlspeed/workloads/training_session.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {
namespace {

const c10::Device kGpu{c10::DeviceType::CUDA, 0};

struct Outputs {
  std::vector<at::Tensor> per_step;  // last_output() after each step, on the CPU
  std::vector<at::Tensor> weights;   // the trainable parameters after each step, flattened, on the CPU
  GraphUse use = GraphUse::off;
  std::string note;
};

// `steps` steps of a fresh tiny session; with `graphs`, the first is eager (the warm-up), the
// rest are replays. The CUDA generator is reseeded so that dropout draws the same numbers.
Outputs run_steps(const Workload& workload, Precision precision, int steps, bool graphs) {
  torch::manual_seed(7);
  std::unique_ptr<Session> session = workload.open("tiny", kGpu, precision, OpenOptions{});
  const WorkloadSize& size = *find_size(workload, "tiny");
  session->prepare(workload.shapes(size, ShapeRequest{}).front());
  Outputs out;
  StepDriver driver(*session, kGpu, graphs);
  for (int i = 0; i < steps; ++i) {
    if (i == 0) {
      driver.warm_up();
    } else {
      if (i == 1) driver.record();
      driver.step();
    }
    synchronize(kGpu);
    out.per_step.push_back(session->last_output().to(at::kCPU, at::kDouble));
    std::vector<at::Tensor> trained;
    for (const at::Tensor& p : session->model().parameters())
      if (p.requires_grad()) trained.push_back(p.detach().flatten().to(at::kCPU, at::kDouble));
    if (!trained.empty()) out.weights.push_back(at::cat(trained));
  }
  out.use = driver.use();
  out.note = driver.note();
  return out;
}

class StepGraphs : public ::testing::TestWithParam<std::tuple<std::string, Precision>> {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_P(StepGraphs, ReplayComputesWhatTheEagerStepComputes) {
  const auto& [name, precision] = GetParam();
  const Workload& workload = *find_workload(name);
  const int steps = workload.job() == Job::train ? 6 : 3;
  const Outputs eager = run_steps(workload, precision, steps, /*graphs=*/false);
  const Outputs replayed = run_steps(workload, precision, steps, /*graphs=*/true);
  EXPECT_EQ(eager.use, GraphUse::off);
  ASSERT_EQ(replayed.use, GraphUse::step) << replayed.note;
  // The same kernels in the same order: equal up to the odd reassociation of a reduction
  // whose kernel cuBLAS/cuDNN picks per stream.
  const double rtol = precision == Precision::fp32 ? 1e-5 : 1e-2;
  for (int i = 0; i < steps; ++i) {
    SCOPED_TRACE("step " + std::to_string(i + 1));
    ASSERT_EQ(eager.per_step[i].sizes(), replayed.per_step[i].sizes());
    EXPECT_TRUE(at::allclose(replayed.per_step[i], eager.per_step[i], rtol, 1e-6))
        << "eager " << eager.per_step[i].flatten().slice(0, 0, 4) << " replayed "
        << replayed.per_step[i].flatten().slice(0, 0, 4);
  }
  // Every replay updates the weights (a graph that recorded no update would leave them). The loss
  // alone cannot show it: a bf16 forward may not see a fine-tuning step's change.
  if (workload.job() == Job::train) {
    ASSERT_EQ(replayed.weights.size(), eager.weights.size());
    EXPECT_FALSE(at::equal(replayed.weights[steps - 1], replayed.weights[steps - 2]));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryWholeStepWorkload, StepGraphs,
    ::testing::Combine(::testing::Values("resnet50-cifar100", "distilbert-imdb", "small-transformer-imdb",
                                         "nanogpt-shakespeare-char", "gpt2-train", "bert-base-infer",
                                         "sd15-unet-infer"),
                       ::testing::Values(Precision::fp32, Precision::bf16, Precision::fp16)),
    [](const auto& info) {
      std::string name = std::get<0>(info.param) + "_" + std::string(mlspeed::name(std::get<1>(info.param)));
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

// A data-parallel rank whose group says that another rank could not record its step drops its own
// graph and steps eagerly: a captured all-reduce must be replayed by every rank or by none.
TEST(StepGraphsOfARank, ARankWhosePeerCouldNotRecordStepsEagerly) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const Workload& workload = *find_workload("gpt2-train");
  std::unique_ptr<Session> session = workload.open("tiny", kGpu, Precision::bf16, OpenOptions{});
  std::vector<bool> asked;
  dynamic_cast<TrainingSessionBase&>(*session).set_data_parallel(0, 1, [] {}, [&](bool recorded) {
    asked.push_back(recorded);
    return false;
  });
  session->prepare(workload.shapes(*find_size(workload, "tiny"), ShapeRequest{}).front());
  StepDriver driver(*session, kGpu, /*graphs_asked=*/true);
  driver.warm_up();
  driver.record();
  EXPECT_EQ(asked, std::vector<bool>{true}) << "this rank recorded its step, and asked its group once";
  EXPECT_EQ(driver.use(), GraphUse::eager);
  EXPECT_NE(driver.note().find("another data-parallel rank"), std::string::npos) << driver.note();
  // The steps go on, eagerly, and train.
  const at::Tensor before = session->model().parameters().front().detach().clone();
  driver.step();
  synchronize(kGpu);
  EXPECT_FALSE(at::equal(before, session->model().parameters().front().detach()));
}

}  // namespace
}  // namespace mlspeed
