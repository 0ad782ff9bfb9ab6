// Properties every workload in the catalogue must have, checked for each one at its tiny size:
// its real-weights path round-trips, its memory estimate is sane, and it steps on the CPU.
#include <c10/core/Device.h>
#include <gtest/gtest.h>
#include <torch/nn/module.h>

#include "mlspeed/core/errors.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/workload.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

using testing::kCpu;

std::map<std::string, at::Tensor> tensors_of(torch::nn::Module& m) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : m.named_parameters()) out.emplace(p.key(), p.value().detach().clone());
  for (const auto& b : m.named_buffers()) out.emplace(b.key(), b.value().detach().clone());
  return out;
}

class EveryWorkload : public ::testing::TestWithParam<std::string> {
 protected:
  const Workload& workload() const { return *find_workload(GetParam()); }
};

TEST_P(EveryWorkload, HasATinySizeAndAFullSize) {
  EXPECT_NE(find_size(workload(), "tiny"), nullptr);
  EXPECT_NE(find_size(workload(), "full"), nullptr);
  for (const WorkloadSize& size : workload().sizes()) {
    EXPECT_GT(size.parameters, 0) << size.name;
    EXPECT_FALSE(size.batches.empty()) << size.name;
    EXPECT_FALSE(workload().shapes(size, {}).empty()) << size.name;
  }
}

TEST_P(EveryWorkload, WeightsSavedFromOneSeedLoadIntoAModelOfAnotherSeedExactly) {
  testing::TempDir dir;
  const std::string path = dir.file("w.safetensors");
  auto source = workload().open("tiny", kCpu, Precision::fp32, {1});
  save_weights(source->model(), path);
  const auto want = tensors_of(source->model());
  ASSERT_FALSE(want.empty());

  auto fresh = workload().open("tiny", kCpu, Precision::fp32, {2});
  const auto before = tensors_of(fresh->model());
  size_t differing = 0;
  for (const auto& [name, t] : before) differing += !t.equal(want.at(name));
  EXPECT_GT(differing, 0u) << "seeds 1 and 2 should give different weights";

  auto loaded = workload().open("tiny", kCpu, Precision::fp32, OpenOptions{2, path, ""});
  const auto got = tensors_of(loaded->model());
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, t] : want) EXPECT_TRUE(got.at(name).equal(t)) << name;
}

TEST_P(EveryWorkload, RefusesAnotherWorkloadsWeightsByName) {
  testing::TempDir dir;
  const std::string path = dir.file("other.safetensors");
  const std::string other = GetParam() == "bert-base-infer" ? "nanogpt-shakespeare-char" : "bert-base-infer";
  save_weights(find_workload(other)->open("tiny", kCpu, Precision::fp32, {1})->model(), path);
  try {
    workload().open("tiny", kCpu, Precision::fp32, OpenOptions{1, path, ""});
    FAIL() << "loaded " << other << "'s weights";
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit this model"), std::string::npos) << e.what();
  }
}

TEST_P(EveryWorkload, MemoryEstimateGrowsWithTheBatchAndCoversTheWeights) {
  for (const WorkloadSize& size : workload().sizes()) {
    const Shape shape = workload().shapes(size, {}).front();
    const auto one = workload().memory_estimate(size.name, Shape{1, shape.seq, shape.new_tokens}, Precision::fp32);
    ASSERT_TRUE(one.has_value()) << GetParam() << " has no memory estimate";
    const auto eight = workload().memory_estimate(size.name, Shape{8, shape.seq, shape.new_tokens}, Precision::fp32);
    EXPECT_GE(one->model, 2 * size.parameters) << size.name;  // at least half-precision weights
    EXPECT_GT(eight->per_step, one->per_step) << size.name;
    EXPECT_EQ(eight->model, one->model) << size.name;
  }
}

TEST_P(EveryWorkload, StepsAtTinySizeAndProducesAFiniteOutput) {
  auto session = workload().open("tiny", kCpu, Precision::fp32, {3});
  const WorkloadSize& tiny = *find_size(workload(), "tiny");
  for (const Shape& shape : workload().shapes(tiny, {})) {
    session->prepare(shape);
    session->step();
    const at::Tensor out = session->last_output();
    ASSERT_TRUE(out.defined());
    if (out.is_floating_point()) EXPECT_TRUE(at::isfinite(out).all().item<bool>());
  }
}

INSTANTIATE_TEST_SUITE_P(Catalogue, EveryWorkload, ::testing::ValuesIn(workload_names()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace mlspeed
