#include "mlspeed/models/resnet.h"

#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "mlspeed/io/weights.h"
#include "testing/test_support.h"

namespace mlspeed::resnet {
namespace {

ResNetConfig resnet50(int64_t classes) { return ResNetConfig{{3, 4, 6, 3}, 64, classes}; }
ResNetConfig tiny(int64_t classes = 10) { return ResNetConfig{{1, 1, 1, 1}, 8, classes}; }

ResNet build(const ResNetConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  return ResNet(config);
}

// Built once: initialising 23.7M parameters takes a moment.
ResNet& full_model() {
  static ResNet model = build(resnet50(100), 0);
  return model;
}

std::map<std::string, at::Tensor> state(const torch::nn::Module& m) {
  std::map<std::string, at::Tensor> s;
  for (const auto& p : m.named_parameters()) s.emplace(p.key(), p.value());
  for (const auto& b : m.named_buffers()) s.emplace(b.key(), b.value());
  return s;
}

TEST(ResNet, ResNet50HasTorchvisionsParameterCounts) {
  EXPECT_EQ(count_params(resnet50(1000)), 25'557'032);  // torchvision.models.resnet50()
  EXPECT_EQ(count_params(resnet50(100)), 23'712'932);   // resnet50-cifar100 (SPEC.md)
  EXPECT_EQ(count_params(resnet50(101)), 23'714'981);   // resnet50-food101 (SPEC.md)
  EXPECT_EQ(num_params(*full_model()), 23'712'932);
}

TEST(ResNet, CountFromConfigEqualsBuiltModel) {
  for (const ResNetConfig& c : {tiny(), tiny(101), ResNetConfig{{2, 1, 3, 1}, 4, 7}, ResNetConfig{{1, 2, 1, 2}, 16, 3}}) {
    const ResNet model = build(c, 0);
    EXPECT_EQ(count_params(c), num_params(*model)) << c.width;
    int64_t buffers = 0;
    for (const auto& b : model->named_buffers())
      if (b.key().find("num_batches_tracked") == std::string::npos) buffers += b.value().numel();
    EXPECT_EQ(count_buffer_elements(c), buffers) << c.width;
  }
}

TEST(ResNet, NamesAndShapesAreTorchvisions) {
  const auto s = state(*full_model());
  // torchvision's resnet50 state dict: 161 parameters + 53 BatchNorms x 3 buffers.
  EXPECT_EQ(s.size(), 320u);
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"conv1.weight", {64, 3, 7, 7}},
      {"bn1.weight", {64}},
      {"bn1.bias", {64}},
      {"bn1.running_mean", {64}},
      {"bn1.running_var", {64}},
      {"bn1.num_batches_tracked", {}},
      {"layer1.0.conv1.weight", {64, 64, 1, 1}},
      {"layer1.0.conv2.weight", {64, 64, 3, 3}},
      {"layer1.0.conv3.weight", {256, 64, 1, 1}},
      {"layer1.0.downsample.0.weight", {256, 64, 1, 1}},
      {"layer1.0.downsample.1.running_var", {256}},
      {"layer1.2.bn3.weight", {256}},
      {"layer2.0.conv1.weight", {128, 256, 1, 1}},
      {"layer2.0.downsample.0.weight", {512, 256, 1, 1}},
      {"layer3.5.conv2.weight", {256, 256, 3, 3}},
      {"layer4.0.downsample.1.num_batches_tracked", {}},
      {"layer4.2.conv3.weight", {2048, 512, 1, 1}},
      {"fc.weight", {100, 2048}},
      {"fc.bias", {100}},
  };
  for (const auto& [name, shape] : expected) {
    auto it = s.find(name);
    ASSERT_NE(it, s.end()) << name;
    EXPECT_EQ(it->second.sizes().vec(), shape) << name;
  }
  EXPECT_EQ(s.at("bn1.num_batches_tracked").scalar_type(), at::kLong);
  for (const char* absent : {"layer1.1.downsample.0.weight", "layer2.1.downsample.0.weight", "conv1.bias",
                             "layer1.0.conv1.bias", "layer4.3.conv1.weight"})
    EXPECT_EQ(s.count(absent), 0u) << absent;
}

TEST(ResNet, StrideSitsOnTheThreeByThreeConv) {  // ResNet v1.5, as torchvision
  const auto& block = full_model()->blocks(1).front();
  EXPECT_EQ((*block->conv1->options.stride())[0], 1);
  EXPECT_EQ((*block->conv2->options.stride())[0], 2);
  auto* down = block->downsample->ptr(0)->as<torch::nn::Conv2d>();
  ASSERT_NE(down, nullptr);
  EXPECT_EQ((*down->options.stride())[0], 2);
  EXPECT_EQ((*full_model()->blocks(0).front()->conv2->options.stride())[0], 1);
}

TEST(ResNet, InitialisesAsTorchvision) {
  ResNet& m = full_model();
  // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = sqrt(2 / (out_channels * k * k)).
  for (const at::Tensor& w : {m->conv1->weight, m->blocks(3)[1]->conv2->weight, m->blocks(2)[0]->conv3->weight}) {
    const double fan_out = double(w.size(0)) * w.size(2) * w.size(3);
    EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / fan_out), 0.03 * std::sqrt(2.0 / fan_out));
    EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.05 * std::sqrt(2.0 / fan_out));
  }
  const auto bn = m->blocks(2)[3]->bn2;
  EXPECT_TRUE(bn->weight.eq(1).all().item<bool>());
  EXPECT_TRUE(bn->bias.eq(0).all().item<bool>());
  EXPECT_TRUE(bn->running_mean.eq(0).all().item<bool>());
  EXPECT_TRUE(bn->running_var.eq(1).all().item<bool>());
  // nn.Linear's default: uniform within 1/sqrt(in_features), for weight and bias.
  const double bound = 1.0 / std::sqrt(2048.0);
  EXPECT_LE(m->fc->weight.abs().max().item<double>(), bound);
  EXPECT_GT(m->fc->weight.abs().max().item<double>(), 0.99 * bound);
  EXPECT_LE(m->fc->bias.abs().max().item<double>(), bound);
}

TEST(ResNet, OutputShapesAndFiniteLogits) {
  ResNet model = build(tiny(10), 1);
  for (int64_t side : {32, 64, 224}) {
    const at::Tensor logits = model->forward(at::rand({2, 3, side, side}));
    EXPECT_EQ(logits.sizes().vec(), (std::vector<int64_t>{2, 10})) << side;
    EXPECT_TRUE(logits.isfinite().all().item<bool>()) << side;
  }
}

TEST(ResNet, SameSeedSameOutputs) {
  const at::Tensor x = at::rand({2, 3, 32, 32});
  ResNet a = build(tiny(), 7), b = build(tiny(), 7), c = build(tiny(), 8);
  a->eval(), b->eval(), c->eval();
  EXPECT_TRUE(a->forward(x).equal(b->forward(x)));
  EXPECT_FALSE(a->forward(x).equal(c->forward(x)));
}

TEST(ResNet, ChannelsLastKeepsTheParametersAndTheResult) {
  ResNet model = build(tiny(), 2);
  model->eval();
  const at::Tensor x = at::rand({2, 3, 32, 32});
  const at::Tensor before = model->forward(x);
  const at::Tensor weight = model->conv1->weight;  // the same parameter object afterwards
  to_channels_last(*model);
  EXPECT_TRUE(weight.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_FALSE(weight.is_contiguous());
  EXPECT_TRUE(model->conv1->weight.is_same(weight));
  for (const auto& p : model->parameters())
    if (p.dim() == 4) EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast));
  const at::Tensor after = model->forward(x.contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(at::allclose(before, after, 1e-4, 1e-5)) << (before - after).abs().max().item<double>();
  // Training: every conv weight's gradient comes back in its parameter's layout.
  model->train();
  at::cross_entropy_loss(model->forward(x.contiguous(at::MemoryFormat::ChannelsLast)),
                         at::zeros({2}, at::kLong))
      .backward();
  for (const auto& p : model->parameters())
    if (p.dim() == 4) EXPECT_TRUE(p.grad().is_contiguous(at::MemoryFormat::ChannelsLast));
}

// Counts multiply-adds by running the real model stage by stage and reading the real output
// shapes: weight.numel() (in * out * k * k) MACs per output pixel of every conv, in * out for the
// fc. Independent of conv_layers()' arithmetic.
double measured_forward_macs(ResNet& model, int64_t height, int64_t width) {
  torch::NoGradGuard no_grad;
  model->eval();
  double macs = 0;
  const auto run = [&](torch::nn::Conv2d conv, const at::Tensor& in) {
    at::Tensor out = conv(in);
    macs += double(conv->weight.numel()) * out.size(2) * out.size(3);
    return out;
  };
  at::Tensor x = at::rand({1, 3, height, width});
  x = at::max_pool2d(at::relu(model->bn1(run(model->conv1, x))), {3, 3}, {2, 2}, {1, 1});
  for (size_t stage = 0; stage < 4; ++stage) {
    for (Bottleneck block : model->blocks(stage)) {
      at::Tensor out = at::relu(block->bn1(run(block->conv1, x)));
      out = at::relu(block->bn2(run(block->conv2, out)));
      out = block->bn3(run(block->conv3, out));
      if (block->downsample) {
        auto conv = torch::nn::Conv2d(block->downsample->ptr<torch::nn::Conv2dImpl>(0));
        x = block->downsample[1]->as<torch::nn::BatchNorm2d>()->forward(run(conv, x));
      }
      x = at::relu(out + x);
    }
  }
  macs += double(model->fc->weight.numel());
  return macs;
}

TEST(ResNet, ForwardFlopsMatchTheConvolutionsTheModelRuns) {
  for (int64_t side : {32, 224}) {
    const double formula = forward_flops_per_image(resnet50(100), side, side);
    EXPECT_DOUBLE_EQ(formula, 2 * measured_forward_macs(full_model(), side, side)) << side;
  }
  // The published size of ResNet-50 at 224x224 with 1000 classes: torchvision lists 4.089 GFLOPS
  // (multiply-adds); exactly 4,089,184,256 by this count.
  EXPECT_DOUBLE_EQ(forward_flops_per_image(resnet50(1000), 224, 224), 2.0 * 4'089'184'256);
  EXPECT_DOUBLE_EQ(forward_flops_per_image(resnet50(100), 32, 32), 2.0 * 83'615'744);
  EXPECT_DOUBLE_EQ(training_flops_per_image(resnet50(101), 224, 224),
                   3 * forward_flops_per_image(resnet50(101), 224, 224));
  // Another block list, width and a non-square input follow the same count.
  ResNet small = build(ResNetConfig{{2, 1, 3, 1}, 4, 7}, 0);
  EXPECT_DOUBLE_EQ(forward_flops_per_image(small->config(), 48, 40), 2 * measured_forward_macs(small, 48, 40));
}

TEST(ResNet, ConvOutputElementsSumEveryConvOutput) {
  // ResNet-50 at 32x32: conv1 64x16x16, then layer1 at 8x8, layer2 4x4, layer3 2x2, layer4 1x1.
  const int64_t layer1 = 3 * (64 + 64 + 256) * 64 + 256 * 64;
  const int64_t layer2 = 4 * (128 + 128 + 512) * 16 + 512 * 16 + 128 * (64 - 16);  // first conv1 at 8x8
  const int64_t layer3 = 6 * (256 + 256 + 1024) * 4 + 1024 * 4 + 256 * (16 - 4);
  const int64_t layer4 = 3 * (512 + 512 + 2048) * 1 + 2048 * 1 + 512 * (4 - 1);
  EXPECT_EQ(conv_output_elements(resnet50(100), 32, 32), 64 * 256 + layer1 + layer2 + layer3 + layer4);
}

TEST(ResNet, WeightsRoundTripThroughSafetensors) {
  testing::TempDir dir;
  const std::string file = dir.file("resnet.safetensors");
  ResNet a = build(tiny(), 1);
  to_channels_last(*a);
  // Some training so that the BatchNorm statistics are not their initial values.
  a->train();
  a->forward(at::rand({4, 3, 32, 32}).contiguous(at::MemoryFormat::ChannelsLast));
  save_weights(*a, file);
  ResNet b = build(tiny(), 2);
  to_channels_last(*b);
  load_weights(*b, file);
  const auto sa = state(*a), sb = state(*b);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) EXPECT_TRUE(t.equal(sb.at(name))) << name;
  EXPECT_TRUE(b->conv1->weight.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_EQ(b->bn1->num_batches_tracked.item<int64_t>(), 1);
  a->eval(), b->eval();
  const at::Tensor x = at::rand({2, 3, 32, 32});
  EXPECT_TRUE(a->forward(x).equal(b->forward(x)));
}

TEST(ResNet, BadConfigurationsAreRefused) {
  EXPECT_THROW(count_params(ResNetConfig{{3, 4, 6}, 64, 10}), c10::Error);
  EXPECT_THROW(ResNet(ResNetConfig{{1, 0, 1, 1}, 8, 10}), c10::Error);
}

}  // namespace
}  // namespace mlspeed::resnet
