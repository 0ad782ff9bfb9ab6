#include "mlspeed/models/unet2d.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace mlspeed::unet {
namespace {

UNetConfig tiny_config() {
  UNetConfig c;
  c.block_out_channels = {16, 32, 32};
  c.cross_attention = {true, true, false};
  c.layers_per_block = 1;
  c.attention_heads = 2;
  c.cross_attention_dim = 24;
  c.norm_num_groups = 8;
  return c;
}

// SD 1.5's structure at a fifth of its width: every name of the real checkpoint, small shapes.
UNetConfig narrow_sd15_config() {
  UNetConfig c;
  c.block_out_channels = {64, 128, 256, 256};
  c.cross_attention_dim = 96;
  return c;
}

std::map<std::string, std::vector<int64_t>> shapes_of(const torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : m.named_parameters()) shapes[item.key()] = item.value().sizes().vec();
  for (const auto& item : m.named_buffers()) shapes["buffer " + item.key()] = item.value().sizes().vec();
  return shapes;
}

// The parameter names of SD 1.5's unet/diffusion_pytorch_model.safetensors, written out from
// diffusers' module attributes (686 tensors), independently of the model code.
std::set<std::string> sd15_checkpoint_names() {
  std::set<std::string> names;
  const auto add = [&](const std::string& module, bool bias = true) {
    names.insert(module + ".weight");
    if (bias) names.insert(module + ".bias");
  };
  const auto resnet = [&](const std::string& p, bool shortcut) {
    for (const char* m : {"norm1", "conv1", "time_emb_proj", "norm2", "conv2"}) add(p + m);
    if (shortcut) add(p + "conv_shortcut");
  };
  const auto transformer = [&](const std::string& p) {
    for (const char* m : {"norm", "proj_in", "proj_out"}) add(p + m);
    const std::string b = p + "transformer_blocks.0.";
    for (const char* m : {"norm1", "norm2", "norm3", "ff.net.0.proj", "ff.net.2"}) add(b + m);
    for (const char* attn : {"attn1", "attn2"}) {
      for (const char* m : {".to_q", ".to_k", ".to_v"}) add(b + attn + m, /*bias=*/false);
      add(b + attn + ".to_out.0");
    }
  };
  for (const char* m : {"conv_in", "time_embedding.linear_1", "time_embedding.linear_2", "conv_norm_out", "conv_out"})
    add(m);
  for (int d = 0; d < 4; ++d) {
    const std::string p = "down_blocks." + std::to_string(d) + ".";
    for (int r = 0; r < 2; ++r) {
      resnet(p + "resnets." + std::to_string(r) + ".", d == 1 || d == 2 ? r == 0 : false);
      if (d < 3) transformer(p + "attentions." + std::to_string(r) + ".");
    }
    if (d < 3) add(p + "downsamplers.0.conv");
  }
  resnet("mid_block.resnets.0.", false);
  resnet("mid_block.resnets.1.", false);
  transformer("mid_block.attentions.0.");
  for (int u = 0; u < 4; ++u) {
    const std::string p = "up_blocks." + std::to_string(u) + ".";
    for (int r = 0; r < 3; ++r) {
      resnet(p + "resnets." + std::to_string(r) + ".", true);  // every up resnet takes a concatenation
      if (u > 0) transformer(p + "attentions." + std::to_string(r) + ".");
    }
    if (u < 3) add(p + "upsamplers.0.conv");
  }
  return names;
}

TEST(UNet, CountsSd15sParametersFromTheConfig) { EXPECT_EQ(count_params(UNetConfig{}), 859'520'964); }

TEST(UNet, NamesAreDiffusersCheckpointNames) {
  torch::manual_seed(0);
  UNet2DConditionModel model(narrow_sd15_config());
  const auto shapes = shapes_of(*model);
  std::set<std::string> names;
  for (const auto& [name, shape] : shapes) names.insert(name);
  const auto expected = sd15_checkpoint_names();
  EXPECT_EQ(expected.size(), 686u);
  EXPECT_EQ(names, expected);  // no buffers either: the checkpoint has none
}

TEST(UNet, FullSizeBuildsWithSd15sShapes) {
  // Built once (about 3.4 GB of float32): the count, names and the shapes the checkpoint has.
  const auto start = std::chrono::steady_clock::now();
  torch::manual_seed(0);
  UNet2DConditionModel model(UNetConfig{});
  EXPECT_EQ(num_params(*model), 859'520'964);
  const auto shapes = shapes_of(*model);
  EXPECT_EQ(shapes.size(), 686u);
  const std::map<std::string, std::vector<int64_t>> known = {
      {"conv_in.weight", {320, 4, 3, 3}},
      {"time_embedding.linear_1.weight", {1280, 320}},
      {"time_embedding.linear_2.weight", {1280, 1280}},
      {"down_blocks.0.resnets.0.time_emb_proj.weight", {320, 1280}},
      {"down_blocks.0.attentions.0.norm.weight", {320}},
      {"down_blocks.0.attentions.0.proj_in.weight", {320, 320, 1, 1}},
      {"down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_k.weight", {320, 320}},
      {"down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", {320, 768}},
      {"down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_out.0.bias", {320}},
      {"down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight", {2560, 320}},
      {"down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight", {320, 1280}},
      {"down_blocks.0.downsamplers.0.conv.weight", {320, 320, 3, 3}},
      {"down_blocks.1.resnets.0.conv1.weight", {640, 320, 3, 3}},
      {"down_blocks.1.resnets.0.conv_shortcut.weight", {640, 320, 1, 1}},
      {"down_blocks.3.resnets.1.conv2.weight", {1280, 1280, 3, 3}},
      {"mid_block.attentions.0.transformer_blocks.0.attn2.to_v.weight", {1280, 768}},
      {"up_blocks.0.resnets.0.conv1.weight", {1280, 2560, 3, 3}},
      {"up_blocks.0.upsamplers.0.conv.weight", {1280, 1280, 3, 3}},
      {"up_blocks.1.resnets.2.conv1.weight", {1280, 1920, 3, 3}},
      {"up_blocks.2.resnets.0.conv1.weight", {640, 1920, 3, 3}},
      {"up_blocks.2.resnets.2.conv_shortcut.weight", {640, 960, 1, 1}},
      {"up_blocks.3.resnets.0.conv1.weight", {320, 960, 3, 3}},
      {"up_blocks.3.resnets.2.conv1.weight", {320, 640, 3, 3}},
      {"up_blocks.3.attentions.2.proj_out.weight", {320, 320, 1, 1}},
      {"conv_norm_out.weight", {320}},
      {"conv_out.weight", {4, 320, 3, 3}},
  };
  for (const auto& [name, shape] : known) {
    auto it = shapes.find(name);
    ASSERT_NE(it, shapes.end()) << name;
    EXPECT_EQ(it->second, shape) << name;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("build_seconds", std::to_string(seconds));
}

TEST(UNet, CountFromConfigEqualsBuiltModel) {
  std::vector<UNetConfig> configs = {tiny_config(), narrow_sd15_config()};
  UNetConfig two_layers = tiny_config();
  two_layers.layers_per_block = 2;
  two_layers.cross_attention = {false, true, true};
  configs.push_back(two_layers);
  UNetConfig one_level = tiny_config();
  one_level.block_out_channels = {16};
  one_level.cross_attention = {true};
  configs.push_back(one_level);
  for (const auto& c : configs) {
    UNet2DConditionModel model(c);
    EXPECT_EQ(count_params(c), num_params(*model)) << c.block_out_channels.size() << " levels";
  }
}

TEST(UNet, TimestepEmbeddingIsDiffusersFormula) {
  const std::vector<double> ts = {0, 1, 37, 500, 981};
  const at::Tensor t = at::tensor(std::vector<int64_t>{0, 1, 37, 500, 981});
  for (bool flip : {true, false}) {
    for (double shift : {0.0, 1.0}) {
      const at::Tensor emb = timestep_embedding(t, 320, flip, shift);
      ASSERT_EQ(emb.sizes(), (std::vector<int64_t>{5, 320}));
      EXPECT_EQ(emb.scalar_type(), at::kFloat);
      const auto a = emb.accessor<float, 2>();
      for (size_t i = 0; i < ts.size(); ++i)
        for (int64_t j = 0; j < 160; ++j) {
          const double angle = ts[i] * std::exp(-std::log(10000.0) * double(j) / (160.0 - shift));
          const double first = flip ? std::cos(angle) : std::sin(angle);
          const double second = flip ? std::sin(angle) : std::cos(angle);
          // float32 angles up to 981 rad: a few ulps of 981 in the argument
          EXPECT_NEAR(a[i][j], first, 2e-4) << "t " << ts[i] << " j " << j;
          EXPECT_NEAR(a[i][160 + j], second, 2e-4) << "t " << ts[i] << " j " << j;
        }
    }
  }
  // SD 1.5 (cos first): at t = 0 the first half is cos(0) = 1, the second sin(0) = 0.
  const at::Tensor zero = timestep_embedding(at::zeros({1}), 320, true, 0.0);
  EXPECT_TRUE(zero.narrow(1, 0, 160).eq(1).all().item<bool>());
  EXPECT_TRUE(zero.narrow(1, 160, 160).eq(0).all().item<bool>());
  EXPECT_EQ(timestep_embedding(t, 7, true, 0.0).sizes(), (std::vector<int64_t>{5, 7}));  // odd: zero-padded
  EXPECT_THROW(timestep_embedding(at::zeros({2, 2}), 8, true, 0.0), c10::Error);
}

TEST(UNet, AttentionSplitsIntoHeadsOfChannelsOverHeads) {
  torch::manual_seed(3);
  Attention attn(16, 12, 4);  // 4 heads of 4 channels, context of width 12
  EXPECT_EQ(attn->heads(), 4);
  const at::Tensor x = at::randn({2, 5, 16}), ctx = at::randn({2, 7, 12});
  const at::Tensor out = attn->forward(x, ctx);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 5, 16}));
  // By hand in float64: per head h, softmax(q_h k_h^T / sqrt(4)) v_h, heads concatenated, to_out.
  const auto w = [](const mlspeed::nn::Linear& l) { return l->weight.to(at::kDouble); };
  const at::Tensor q = at::matmul(x.to(at::kDouble), w(attn->to_q).t());
  const at::Tensor k = at::matmul(ctx.to(at::kDouble), w(attn->to_k).t());
  const at::Tensor v = at::matmul(ctx.to(at::kDouble), w(attn->to_v).t());
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < 4; ++h) {
    const at::Tensor qh = q.narrow(2, 4 * h, 4), kh = k.narrow(2, 4 * h, 4), vh = v.narrow(2, 4 * h, 4);
    heads.push_back(at::matmul(at::softmax(at::matmul(qh, kh.transpose(1, 2)) / 2.0, -1), vh));
  }
  const auto& out_proj = attn->to_out[0]->as<torch::nn::LinearImpl>();
  const at::Tensor expected =
      at::matmul(at::cat(heads, 2), out_proj->weight.to(at::kDouble).t()) + out_proj->bias.to(at::kDouble);
  EXPECT_LT((out.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5);
  // Self-attention when no context is given: keys from x.
  Attention self(16, 0, 4);
  EXPECT_EQ(self->to_k->weight.sizes(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(self->forward(x).sizes(), x.sizes());
}

TEST(UNet, EveryAttentionOfSd15HasEightHeads) {
  UNet2DConditionModel model(narrow_sd15_config());
  int attentions = 0;
  for (const auto& m : model->modules(/*include_self=*/false))
    if (auto* attn = m->as<AttentionImpl>()) {
      ++attentions;
      EXPECT_EQ(attn->heads(), 8);
    }
  EXPECT_EQ(attentions, 2 * 16);  // 16 transformers (6 down, 1 mid, 9 up), attn1 + attn2 each
}

TEST(UNet, DownPathHalvesUpPathDoublesAndSkipsAreConsumed) {
  torch::manual_seed(1);
  const UNetConfig c = tiny_config();
  UNet2DConditionModel model(c);
  model->eval();
  c10::InferenceMode inference;
  const int64_t B = 2;
  const at::Tensor sample = at::randn({B, 4, 16, 16}), ctx = at::randn({B, 5, 24});
  const at::Tensor temb_act =
      at::silu(model->time_embedding(timestep_embedding(at::full({B}, 10), 16, true, 0.0)));
  EXPECT_EQ(temb_act.sizes(), (std::vector<int64_t>{B, 64}));  // time_embed_dim = 4 x 16

  at::Tensor x = model->conv_in(sample);
  std::vector<at::Tensor> skips{x};
  const std::vector<std::vector<int64_t>> after_down = {{B, 16, 8, 8}, {B, 32, 4, 4}, {B, 32, 4, 4}};
  for (size_t i = 0; i < 3; ++i) {
    x = model->down_blocks[i]->as<DownBlockImpl>()->forward(x, temb_act, ctx, skips);
    EXPECT_EQ(x.sizes(), after_down[i]) << "down block " << i;
  }
  // conv_in + per level (1 resnet + a downsample, none after the last).
  ASSERT_EQ(skips.size(), 1u + 2u + 2u + 1u);
  EXPECT_EQ(skips[1].sizes(), (std::vector<int64_t>{B, 16, 16, 16}));
  EXPECT_EQ(skips[2].sizes(), (std::vector<int64_t>{B, 16, 8, 8}));
  x = model->mid_block(x, temb_act, ctx);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{B, 32, 4, 4}));
  const std::vector<std::vector<int64_t>> after_up = {{B, 32, 8, 8}, {B, 32, 16, 16}, {B, 16, 16, 16}};
  for (size_t i = 0; i < 3; ++i) {
    x = model->up_blocks[i]->as<UpBlockImpl>()->forward(x, skips, temb_act, ctx);
    EXPECT_EQ(x.sizes(), after_up[i]) << "up block " << i;
  }
  EXPECT_TRUE(skips.empty()) << "each up resnet takes one skip: 3 blocks x 2 resnets = 6";

  // The whole forward is the same composition.
  const at::Tensor out = model->forward(sample, at::full({1}, 10), ctx);
  EXPECT_EQ(out.sizes(), sample.sizes());
  EXPECT_TRUE(at::isfinite(out).all().item<bool>());
  EXPECT_LT((model->conv_out(at::silu(model->conv_norm_out(x))) - out).abs().max().item<float>(), 1e-5f);
}

TEST(UNet, OutputDependsOnTimestepAndContext) {
  torch::manual_seed(2);
  UNet2DConditionModel model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor sample = at::randn({1, 4, 8, 8}), ctx = at::randn({1, 3, 24});
  const at::Tensor base = model->forward(sample, at::full({1}, 10), ctx);
  EXPECT_GT((base - model->forward(sample, at::full({1}, 900), ctx)).abs().max().item<float>(), 1e-4f);
  EXPECT_GT((base - model->forward(sample, at::full({1}, 10), ctx * 2)).abs().max().item<float>(), 1e-4f);
  // One sample at a time equals the batch (no mixing across the batch).
  const at::Tensor two = model->forward(at::cat({sample, sample * 0.5}), at::full({1}, 10), at::cat({ctx, ctx}));
  EXPECT_LT((two[0] - base[0]).abs().max().item<float>(), 1e-5f);
}

TEST(UNet, RefusesBadInputs) {
  UNet2DConditionModel model(tiny_config());
  c10::InferenceMode inference;
  const at::Tensor ctx = at::randn({1, 3, 24});
  EXPECT_THROW(model->forward(at::randn({1, 4, 6, 6}), at::zeros({1}), ctx), c10::Error);  // not a multiple of 4
  EXPECT_THROW(model->forward(at::randn({1, 3, 8, 8}), at::zeros({1}), ctx), c10::Error);  // 3 channels
  EXPECT_THROW(model->forward(at::randn({1, 4, 8, 8}), at::zeros({1}), at::randn({1, 3, 16})), c10::Error);
  EXPECT_THROW(model->forward(at::randn({2, 4, 8, 8}), at::zeros({3}), at::randn({2, 3, 24})), c10::Error);
  UNetConfig bad = tiny_config();
  bad.norm_num_groups = 32;  // does not divide 16 channels
  EXPECT_THROW(UNet2DConditionModel{bad}, c10::Error);
  EXPECT_THROW(count_params(bad), c10::Error);
}

TEST(UNet, ChannelsLastGivesTheSameOutput) {
  torch::manual_seed(4);
  UNet2DConditionModel model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor sample = at::randn({2, 4, 8, 8}), ctx = at::randn({2, 3, 24});
  const at::Tensor reference = model->forward(sample, at::full({1}, 500), ctx);
  to_channels_last(*model);
  EXPECT_TRUE(model->conv_in->weight.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(model->time_embedding->linear_1->weight.is_contiguous());
  const at::Tensor out =
      model->forward(sample.contiguous(at::MemoryFormat::ChannelsLast), at::full({1}, 500), ctx);
  EXPECT_LT((out - reference).abs().max().item<float>(), 1e-4f);
}

TEST(UNet, BFloat16RunsCloseToFloat32) {
  torch::manual_seed(5);
  UNet2DConditionModel model(tiny_config());
  model->eval();
  const at::Tensor sample = at::randn({1, 4, 8, 8}), ctx = at::randn({1, 3, 24});
  at::Tensor reference, low;
  {
    c10::InferenceMode inference;
    reference = model->forward(sample, at::full({1}, 500), ctx);
  }
  model->to(at::kBFloat16);
  {
    c10::InferenceMode inference;
    low = model->forward(sample.to(at::kBFloat16), at::full({1}, 500), ctx.to(at::kBFloat16));
  }
  EXPECT_EQ(low.scalar_type(), at::kBFloat16);
  const double scale = reference.abs().max().item<double>();
  EXPECT_LT((low.to(at::kFloat) - reference).abs().max().item<double>(), 0.1 * scale);
}

}  // namespace
}  // namespace mlspeed::unet
