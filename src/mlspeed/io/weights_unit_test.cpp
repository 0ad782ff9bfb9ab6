// Loading a module from the shards of one checkpoint (Hugging Face's model-0000N-of-0000M
// .safetensors): the same values as from one file, and the all-or-nothing checks kept across the
// files: a tensor missing from every shard, one in two shards, or a shard that is no safetensors
// file is one InputFileError naming it, and nothing is loaded.
#include "mlspeed/io/weights.h"

#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <vector>

#include "mlspeed/core/errors.h"
#include "mlspeed/io/safetensors.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

// A Linear and a LayerNorm: four tensors to spread over files.
struct ShardedPair : torch::nn::Module {
  ShardedPair() {
    fc = register_module("fc", torch::nn::Linear(4, 3));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({3})));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};

std::string shards_error(torch::nn::Module& m, const std::vector<std::string>& paths) {
  try {
    load_weights(m, paths);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "";
}

bool same_values(ShardedPair& a, ShardedPair& b) {
  return a.fc->weight.equal(b.fc->weight) && a.fc->bias.equal(b.fc->bias) && a.norm->weight.equal(b.norm->weight) &&
         a.norm->bias.equal(b.norm->bias);
}

TEST(WeightsShards, TwoShardsLoadAsOneFileDoes) {
  testing::TempDir dir;
  torch::manual_seed(7);
  ShardedPair source;
  safetensors::save(dir.file("a.safetensors"), {{"fc.weight", source.fc->weight}, {"norm.bias", source.norm->bias}});
  safetensors::save(dir.file("b.safetensors"), {{"fc.bias", source.fc->bias}, {"norm.weight", source.norm->weight}});
  torch::manual_seed(8);
  ShardedPair loaded;
  ASSERT_FALSE(same_values(source, loaded));
  std::vector<std::pair<int64_t, int64_t>> calls;
  load_weights(loaded, {dir.file("a.safetensors"), dir.file("b.safetensors")}, {},
               [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });
  EXPECT_TRUE(same_values(source, loaded));
  ASSERT_EQ(calls.size(), 4u) << "one call a tensor copied";
  EXPECT_EQ(calls.back(), std::make_pair(int64_t(4), int64_t(4)));
}

TEST(WeightsShards, ATensorInTwoShardsOrInNoneIsRefusedAndNothingLoads) {
  testing::TempDir dir;
  torch::manual_seed(9);
  ShardedPair source;
  safetensors::save(dir.file("a.safetensors"),
                    {{"fc.weight", source.fc->weight}, {"fc.bias", source.fc->bias}, {"norm.bias", source.norm->bias}});
  safetensors::save(dir.file("b.safetensors"), {{"fc.bias", source.fc->bias}});
  ShardedPair m;
  const at::Tensor before = m.fc->weight.detach().clone();
  const std::string e = shards_error(m, {dir.file("a.safetensors"), dir.file("b.safetensors")});
  EXPECT_NE(e.find(dir.file("a.safetensors") + " and 1 more file do not fit this model (4 tensors; the files have 4)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("1 missing from the files:\n    norm.weight [3]"), std::string::npos) << e;
  EXPECT_NE(e.find("1 in two files:\n    fc.bias: fc.bias in " + dir.file("a.safetensors") + " and fc.bias in " +
                   dir.file("b.safetensors")),
            std::string::npos)
      << e;
  EXPECT_TRUE(m.fc->weight.equal(before)) << "nothing is loaded when anything is wrong";
  // Each shard alone lacks tensors: the checks are over the set, never per file.
  EXPECT_NE(shards_error(m, {dir.file("b.safetensors")}).find("3 missing from the file"), std::string::npos);
}

TEST(WeightsShards, AShardThatIsNoSafetensorsFileIsNamed) {
  testing::TempDir dir;
  ShardedPair source;
  safetensors::save(dir.file("a.safetensors"), {{"fc.weight", source.fc->weight}, {"fc.bias", source.fc->bias}});
  testing::write_file(dir.file("b.safetensors"), "truncated");
  ShardedPair m;
  const std::string e = shards_error(m, {dir.file("a.safetensors"), dir.file("b.safetensors")});
  EXPECT_EQ(e.rfind(dir.file("b.safetensors") + ": ", 0), 0u) << e;
}

}  // namespace
}  // namespace mlspeed
