// The steps that string the fused kernels together, on the CPU: Llama's and GPT-2's fused decode
// steps, GPT-2's fused loss, GPT-2's and nanoGPT's residual norms, the UNet's GroupNorms and
// ResNet's BatchNorms, run with the kernels' LibTorch-op references
// (src/testing/reference_fused_kernels.h) against LibTorch's unfused ops; and the verifier's faults
// reaching the fused nodes. What the CUDA kernels compute is the gpu label's
// (fused/*_gpu_test.cpp); this checks what the steps do with them — which weights, in which
// orientation, the residual stream, the cache, the head, the loss's scale and count — in CI, on
// every change.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/batch_norm.h"
#include "mlspeed/fused/cross_entropy.h"
#include "mlspeed/fused/residual_layer_norm.h"
#include "mlspeed/models/gpt.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/models/kv_cache.h"
#include "mlspeed/models/llama.h"
#include "mlspeed/models/resnet.h"
#include "mlspeed/models/unet2d.h"
#include "mlspeed/verify/faults.h"
#include "testing/fused_test_models.h"
#include "testing/reference_fused_kernels.h"

namespace mlspeed {
namespace {

double worst_relative(const at::Tensor& got, const at::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

llama::LlamaForCausalLM small_dense_llama() {
  llama::LlamaForCausalLM model(testing::fused_test_llama_config());
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(5));
  return model;
}

TEST(FusedSteps, LlamaDenseDecodeStepGivesTheUnfusedLogits) {
  c10::InferenceMode inference;
  llama::LlamaForCausalLM model = small_dense_llama();
  const testing::ReferenceFusedKernels references;
  const at::Tensor first = model->model->embed_tokens(at::full({2, 1}, 3, at::kLong));
  {
    KVCache cache = model->make_cache(2, 16);
    EXPECT_FALSE(model->fused_decode_step(first, cache).has_value()) << "q, k and v not yet one matrix";
  }
  model->fuse_projections();
  KVCache fused_cache = model->make_cache(2, 16), libtorch_cache = model->make_cache(2, 16);
  const at::Tensor ids = at::tensor({5, 17, 3, 250, 9, 9, 42, 0, 255, 1}, at::kLong);
  for (int64_t step = 0; step < 5; ++step) {
    const at::Tensor token = ids.narrow(0, 2 * step, 2).view({2, 1});
    const std::optional<at::Tensor> fused = model->fused_decode_step(model->model->embed_tokens(token), fused_cache);
    ASSERT_TRUE(fused.has_value()) << "the dense step takes a model with its projections fused";
    at::Tensor unfused;
    {
      const KernelSetScope libtorch(KernelSet::libtorch);
      unfused = model->decode_step(token, libtorch_cache);
    }
    ASSERT_EQ(fused->sizes(), unfused.sizes());
    EXPECT_LT(worst_relative(*fused, unfused), 1e-5) << "step " << step;
  }
  EXPECT_LT(worst_relative(fused_cache.layer(1).first, libtorch_cache.layer(1).first), 1e-5)
      << "the keys each step wrote";
}

TEST(FusedSteps, Gpt2DecodeStepGivesTheUnfusedLogits) {
  c10::InferenceMode inference;
  gpt2::GPT2Model model = testing::fused_test_gpt2(300);
  model->eval();
  const testing::ReferenceFusedKernels references;
  KVCache fused_cache = model->make_cache(2, 16), libtorch_cache = model->make_cache(2, 16);
  const at::Tensor ids = at::tensor({5, 17, 3, 250, 9, 9, 42, 0, 299, 1}, at::kLong);
  for (int64_t step = 0; step < 5; ++step) {
    const at::Tensor token = ids.narrow(0, 2 * step, 2).view({2, 1});
    const at::Tensor x = at::zeros({2, 1, 128});
    at::Tensor fused, unfused;
    fused = model->decode_step(token, fused_cache);
    {
      const KernelSetScope libtorch(KernelSet::libtorch);
      EXPECT_FALSE(model->fused_decode_step(x, libtorch_cache).has_value());
      unfused = model->decode_step(token, libtorch_cache);
    }
    ASSERT_EQ(fused.sizes(), unfused.sizes());
    EXPECT_LT(worst_relative(fused, unfused), 1e-5) << "step " << step;
  }
  EXPECT_TRUE(model->fused_decode_step(at::zeros({2, 1, 128}), fused_cache).has_value())
      << "the steps above went through the fused step";
}

TEST(FusedSteps, FusedCrossEntropyGivesLibTorchsLossAndGradients) {
  const testing::ReferenceFusedKernels references;
  at::Tensor logits = at::randn({6, 16}, at::make_generator<at::CPUGeneratorImpl>(1)).requires_grad_(true);
  const at::Tensor targets = at::tensor({3, -100, 15, 0, 7, -100}, at::kLong);
  ASSERT_TRUE(fused::fused_cross_entropy_takes(logits, targets));
  const at::Tensor loss = fused::cross_entropy(logits, targets);
  (loss * 3).backward();
  const at::Tensor fused_grad = logits.grad().clone();
  logits.mutable_grad().zero_();
  const at::Tensor want = at::cross_entropy_loss(logits, targets);
  (want * 3).backward();
  EXPECT_NEAR(loss.item<double>(), want.item<double>(), 1e-6);
  EXPECT_LT(worst_relative(fused_grad, logits.grad()), 1e-6) << "the gradient's scale is the loss's over the count";
}

TEST(FusedSteps, TheResidualLayerNormNodeGivesLibTorchsValuesAndGradients) {
  const testing::ReferenceFusedKernels references;
  auto random = at::make_generator<at::CPUGeneratorImpl>(4);
  const at::Tensor x = (at::randn({2, 5, 16}, random) * 2 + 1).requires_grad_(true);
  const at::Tensor y = at::randn({2, 5, 16}, random).requires_grad_(true);
  const at::Tensor gamma = (at::randn({16}, random) + 1).requires_grad_(true);
  const at::Tensor beta = at::randn({16}, random).requires_grad_(true);
  ASSERT_TRUE(fused::residual_layer_norm_takes(x, y, gamma, beta));
  // Both outputs used downstream, with weights of their own, as a transformer uses them.
  const at::Tensor w_sum = at::randn({2, 5, 16}, random), w_out = at::randn({2, 5, 16}, random);
  const auto grads_of = [&](const at::Tensor& sum, const at::Tensor& out) {
    for (const at::Tensor* t : {&x, &y, &gamma, &beta})
      if (t->grad().defined()) t->mutable_grad().zero_();
    ((sum * w_sum).sum() + (out * w_out).sum()).backward();
    return std::vector<at::Tensor>{x.grad().clone(), y.grad().clone(), gamma.grad().clone(), beta.grad().clone()};
  };
  const auto [sum, out] = fused::residual_layer_norm(x, y, gamma, beta, 1e-5);
  const std::vector<at::Tensor> fused_grads = grads_of(sum, out);
  const at::Tensor want_sum = x + y, want_out = at::layer_norm(want_sum, {16}, gamma, beta, 1e-5);
  EXPECT_LT(worst_relative(sum, want_sum), 1e-6);
  EXPECT_LT(worst_relative(out, want_out), 1e-5);
  const std::vector<at::Tensor> want_grads = grads_of(want_sum, want_out);
  const char* names[] = {"x", "y", "gamma", "beta"};
  for (size_t i = 0; i < 4; ++i) EXPECT_LT(worst_relative(fused_grads[i], want_grads[i]), 1e-5) << names[i];
}

// The verifier's layer-norm-backward-zero-rows reaches the fused node too (through
// fused/kernel_fault.h, recorded in forward: backward may run on another thread): the norm's
// gradient is gone on odd rows, the stream's own passes, even rows and the forward stay right.
TEST(FusedSteps, TheLayerNormBackwardFaultBreaksTheResidualNormsBackward) {
  const testing::ReferenceFusedKernels references;
  auto random = at::make_generator<at::CPUGeneratorImpl>(6);
  const at::Tensor x = at::randn({6, 16}, random).requires_grad_(true);
  const at::Tensor y = at::randn({6, 16}, random), gamma = at::randn({16}, random) + 1;
  const at::Tensor beta = at::randn({16}, random), w_sum = at::randn({6, 16}, random);
  const at::Tensor w_out = at::randn({6, 16}, random);
  const auto grad_of_x = [&](const verify::Fault* fault) {
    at::Tensor sum, out;
    {
      const verify::Injection injection(fault);
      std::tie(sum, out) = fused::residual_layer_norm(x, y, gamma, beta, 1e-5);
    }
    if (x.grad().defined()) x.mutable_grad().zero_();
    ((sum * w_sum).sum() + (out * w_out).sum()).backward();  // outside the fault's scope
    return x.grad().clone();
  };
  const at::Tensor healthy = grad_of_x(nullptr);
  const at::Tensor faulty = grad_of_x(verify::find_fault("layer-norm-backward-zero-rows"));
  for (int64_t row = 0; row < 6; ++row) {
    const at::Tensor want = row % 2 == 0 ? healthy[row] : w_sum[row];
    EXPECT_TRUE(at::allclose(faulty[row], want)) << "row " << row;
  }
  EXPECT_FALSE(at::allclose(healthy[1], w_sum[1])) << "the norm's gradient of a healthy odd row is not zero";
}

TEST(FusedSteps, Gpt2TrainingThroughTheFusedNodesGivesTheSameLossAndGradients) {
  gpt2::GPT2Model model = testing::fused_test_gpt2(296);  // a multiple of 8: the fused loss takes it on the CPU
  const at::Tensor idx = at::randint(296, {2, 12}, at::make_generator<at::CPUGeneratorImpl>(2), at::kLong);
  const at::Tensor targets = at::randint(296, {2, 12}, at::make_generator<at::CPUGeneratorImpl>(3), at::kLong);
  std::vector<std::string> names;  // the loss's autograd node, each time
  const auto loss_and_grads = [&] {
    model->zero_grad();
    const at::Tensor loss = model->loss(idx, targets);
    names.push_back(loss.grad_fn()->name());
    loss.backward();
    std::map<std::string, at::Tensor> grads;
    for (const auto& p : model->named_parameters()) grads[p.key()] = p.value().grad().clone();
    return std::make_pair(loss.detach(), grads);
  };
  at::Tensor fused_loss;
  std::map<std::string, at::Tensor> fused_grads;
  {
    const testing::ReferenceFusedKernels references;
    std::tie(fused_loss, fused_grads) = loss_and_grads();
  }
  const auto [loss, grads] = loss_and_grads();
  EXPECT_NE(names[0].find("FusedCrossEntropy"), std::string::npos) << names[0];
  EXPECT_EQ(names[1].find("FusedCrossEntropy"), std::string::npos) << names[1];
  EXPECT_NEAR(fused_loss.item<double>(), loss.item<double>(), 1e-5);
  for (const auto& [name, grad] : grads) {
    ASSERT_TRUE(fused_grads[name].defined()) << name;
    EXPECT_LT(worst_relative(fused_grads[name], grad), 1e-4) << name;
  }
  EXPECT_GT(grads.at("h.2.ln_2.weight").abs().max().item<double>(), 0.0);
}


// nanoGPT's shakespeare-char shape in small: no biases (the fused norm without beta) and dropout
// inside the branches, which comes before the add: re-seeded, the fused and unfused steps draw the
// same masks and give the same loss and gradients.
TEST(FusedSteps, NanoGptTrainingWithDropoutAndNoBiasesThroughTheFusedNodes) {
  nanogpt::GPTConfig config;
  config.vocab_size = 65;
  config.block_size = 32;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 64;
  config.dropout = 0.2;
  config.bias = false;
  torch::manual_seed(11);
  nanogpt::GPT model(config);
  {
    at::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key().find("ln_") != std::string::npos) p.value().add_(at::randn_like(p.value()) * 0.1);
  }
  model->train();
  const at::Tensor idx = at::randint(65, {3, 32}, at::make_generator<at::CPUGeneratorImpl>(2), at::kLong);
  const at::Tensor targets = at::randint(65, {3, 32}, at::make_generator<at::CPUGeneratorImpl>(3), at::kLong);
  const auto loss_and_grads = [&] {
    model->zero_grad();
    torch::manual_seed(5);  // the same dropout masks
    const at::Tensor logits = model->forward(idx);
    const at::Tensor loss = at::cross_entropy_loss(logits.view({-1, 65}), targets.view(-1));
    loss.backward();
    std::map<std::string, at::Tensor> grads;
    for (const auto& p : model->named_parameters()) grads[p.key()] = p.value().grad().clone();
    return std::make_pair(loss.detach(), grads);
  };
  at::Tensor fused_loss;
  std::map<std::string, at::Tensor> fused_grads;
  {
    const testing::ReferenceFusedKernels references;
    ASSERT_TRUE(model->fused_blocks(at::zeros({1, 4, 64})).has_value()) << "the fused path does not take the model";
    std::tie(fused_loss, fused_grads) = loss_and_grads();
  }
  ASSERT_FALSE(model->fused_blocks(at::zeros({1, 4, 64})).has_value());
  const auto [loss, grads] = loss_and_grads();
  EXPECT_NEAR(fused_loss.item<double>(), loss.item<double>(), 1e-5);
  for (const auto& [name, grad] : grads) {
    ASSERT_TRUE(fused_grads[name].defined()) << name;
    EXPECT_LT(worst_relative(fused_grads[name], grad), 1e-4) << name;
  }
}


// The UNet's norms through the group norm's contract (each ResNet block's time-embedding add
// folded into norm2, SiLU into the norms that have it): a channels-last UNet gives the unfused
// output, and every norm took the fused path (a reference that counts its calls).
int reference_group_norm_calls = 0;
at::Tensor counting_group_norm(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                               const at::Tensor& bias, double eps, bool silu) {
  ++reference_group_norm_calls;
  return testing::reference_group_norm(x, add, groups, weight, bias, eps, silu);
}

TEST(FusedSteps, UNetThroughTheFusedGroupNormsGivesTheUnfusedOutput) {
  unet::UNetConfig config;
  config.block_out_channels = {16, 32, 32};
  config.cross_attention = {true, true, false};
  config.layers_per_block = 1;
  config.attention_heads = 2;
  config.cross_attention_dim = 24;
  config.norm_num_groups = 8;
  torch::manual_seed(4);
  unet::UNet2DConditionModel model(config);
  {
    at::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key().find("norm") != std::string::npos) p.value().add_(at::randn_like(p.value()) * 0.2);
  }
  model->eval();
  unet::to_channels_last(*model);
  c10::InferenceMode inference;
  const at::Tensor sample = at::randn({2, 4, 8, 8}).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor context = at::randn({2, 3, 24}), timesteps = at::full({1}, 500);
  at::Tensor fused;
  {
    const testing::ReferenceFusedKernels references;
    const fused::GroupNormKernels before = fused::register_group_norm_kernels({&counting_group_norm, c10::kCPU});
    reference_group_norm_calls = 0;
    fused = model->forward(sample, timesteps, context);
    fused::register_group_norm_kernels(before);
  }
  // Per level's ResNet blocks two norms, the transformers one each, the mid block's 2 ResNet
  // blocks and transformer, conv_norm_out: the model's GroupNorm modules, every one of them.
  int modules = 0;
  for (const auto& m : model->modules(/*include_self=*/false))
    if (m->as<torch::nn::GroupNorm>()) ++modules;
  EXPECT_EQ(reference_group_norm_calls, modules);
  const at::Tensor unfused = model->forward(sample, timesteps, context);
  EXPECT_LT(worst_relative(fused, unfused), 1e-5);
}


// The group norm's node with gradients (the verifier's model checks take them): LibTorch's values
// and gradients; and verify's silu-non-contiguous-zeros reaches the fused SiLU (through
// fused/kernel_fault.h) while the norm without SiLU stays right.
TEST(FusedSteps, TheGroupNormNodeGivesLibTorchsGradientsAndTakesTheSiluFault) {
  const testing::ReferenceFusedKernels references;
  auto random = at::make_generator<at::CPUGeneratorImpl>(8);
  const at::Tensor x = at::randn({2, 16, 3, 5}, random).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(true);
  const at::Tensor add = at::randn({2, 16}, random).requires_grad_(true);
  const at::Tensor weight = (at::randn({16}, random) + 1).requires_grad_(true);
  const at::Tensor bias = at::randn({16}, random).requires_grad_(true), g = at::randn({2, 16, 3, 5}, random);
  ASSERT_TRUE(fused::group_norm_takes(x, add, 4, weight, bias));
  const auto grads = [&](const at::Tensor& out) {
    for (const at::Tensor* t : {&x, &add, &weight, &bias})
      if (t->grad().defined()) t->mutable_grad().zero_();
    (out * g).sum().backward();
    return std::vector<at::Tensor>{x.grad().clone(), add.grad().clone(), weight.grad().clone(), bias.grad().clone()};
  };
  const at::Tensor fused_out = fused::group_norm(x, add, 4, weight, bias, 1e-5, true);
  EXPECT_NE(std::string(fused_out.grad_fn()->name()).find("FusedGroupNorm"), std::string::npos);
  const std::vector<at::Tensor> fused_grads = grads(fused_out);
  const at::Tensor want = at::silu(at::group_norm(x + add.unsqueeze(-1).unsqueeze(-1), 4, weight, bias, 1e-5));
  EXPECT_LT(worst_relative(fused_out, want), 1e-6);
  const std::vector<at::Tensor> want_grads = grads(want);
  const char* names[] = {"x", "add", "weight", "bias"};
  for (size_t i = 0; i < 4; ++i) EXPECT_LT(worst_relative(fused_grads[i], want_grads[i]), 1e-5) << names[i];

  const verify::Injection fault(verify::find_fault("silu-non-contiguous-zeros"));
  at::NoGradGuard no_grad;
  EXPECT_EQ(fused::group_norm(x, add, 4, weight, bias, 1e-5, true).abs().max().item<double>(), 0.0);
  const at::Tensor normed = at::group_norm(x + add.unsqueeze(-1).unsqueeze(-1), 4, weight, bias, 1e-5);
  EXPECT_LT(worst_relative(fused::group_norm(x, add, 4, weight, bias, 1e-5, false), normed), 1e-6);
}


// verify's cross-entropy-backward-next-class reaches the fused loss's backward (recorded in forward:
// backward may run on another thread, so this one runs outside the fault's scope) as it reaches
// LibTorch's nll_loss_backward (inside it, as in verify's steps): the same loss as a healthy one,
// and the gradient of the next class's targets.
TEST(FusedSteps, TheCrossEntropyFaultShiftsTheFusedGradientLikeLibTorchs) {
  const testing::ReferenceFusedKernels references;
  auto random = at::make_generator<at::CPUGeneratorImpl>(10);
  const at::Tensor logits = at::randn({6, 16}, random).requires_grad_(true);
  const at::Tensor targets = at::tensor({3, 15, -100, 0, 7, 7}, at::kLong);
  const auto loss_and_grad = [&](bool fused_path, const at::Tensor& with_targets, const verify::Fault* fault) {
    if (logits.grad().defined()) logits.mutable_grad().zero_();
    at::Tensor loss;
    {
      const verify::Injection injection(fault);
      loss = fused_path ? fused::cross_entropy(logits, with_targets) : at::cross_entropy_loss(logits, with_targets);
      if (!fused_path) loss.backward();
    }
    if (fused_path) loss.backward();
    return std::make_pair(loss.detach(), logits.grad().clone());
  };
  ASSERT_TRUE(fused::fused_cross_entropy_takes(logits, targets));
  const verify::Fault* fault = verify::find_fault("cross-entropy-backward-next-class");
  const auto [fused_loss, fused_grad] = loss_and_grad(true, targets, fault);
  const auto [healthy_loss, healthy_grad] = loss_and_grad(false, targets, nullptr);
  const at::Tensor shifted = at::tensor({4, 0, -100, 1, 8, 8}, at::kLong);
  const auto [shifted_loss, shifted_grad] = loss_and_grad(false, shifted, nullptr);
  EXPECT_NEAR(fused_loss.item<double>(), healthy_loss.item<double>(), 1e-6) << "the loss stays right";
  EXPECT_LT(worst_relative(fused_grad, shifted_grad), 1e-5) << "the gradient is the next class's";
  const auto [libtorch_loss, libtorch_grad] = loss_and_grad(false, targets, fault);
  EXPECT_NEAR(libtorch_loss.item<double>(), healthy_loss.item<double>(), 1e-6);
  EXPECT_LT(worst_relative(libtorch_grad, shifted_grad), 1e-5) << "LibTorch's path breaks the same way";
}


// A small ResNet's training step through the batch norm's contract (every norm of a bottleneck with
// its ReLU, bn3 with the shortcut): the same loss, every gradient and the running statistics, as
// LibTorch's modules give them; and every norm but the downsample's took the fused path.
int reference_batch_norm_calls = 0;
std::tuple<at::Tensor, at::Tensor, at::Tensor> counting_batch_norm(const at::Tensor& x, const at::Tensor& residual,
                                                                   const at::Tensor& weight, const at::Tensor& bias,
                                                                   const at::Tensor& running_mean,
                                                                   const at::Tensor& running_var, double momentum,
                                                                   double eps, bool relu) {
  ++reference_batch_norm_calls;
  return testing::reference_batch_norm_forward(x, residual, weight, bias, running_mean, running_var, momentum, eps,
                                               relu);
}

TEST(FusedSteps, ResNetTrainingThroughTheFusedBatchNormsGivesLibTorchsStep) {
  resnet::ResNetConfig config;
  config.width = 8;
  config.layers = {1, 1, 1, 1};
  config.num_classes = 5;
  const auto build = [&] {
    torch::manual_seed(6);
    resnet::ResNet model(config);
    resnet::to_channels_last(*model);
    model->train();
    return model;
  };
  const at::Tensor images =
      at::randn({3, 3, 32, 32}, at::make_generator<at::CPUGeneratorImpl>(7)).contiguous(at::MemoryFormat::ChannelsLast);
  const at::Tensor labels = at::tensor({0, 4, 2}, at::kLong);
  const auto step = [&](resnet::ResNet& model) {
    const at::Tensor loss = at::cross_entropy_loss(model->forward(images), labels);
    loss.backward();
    std::map<std::string, at::Tensor> state;
    for (const auto& p : model->named_parameters()) state[p.key()] = p.value().grad().clone();
    for (const auto& b : model->named_buffers()) state[b.key()] = b.value().clone();
    return std::make_pair(loss.detach(), state);
  };
  resnet::ResNet fused_model = build(), model = build();
  at::Tensor fused_loss;
  std::map<std::string, at::Tensor> fused_state;
  {
    const testing::ReferenceFusedKernels references;
    fused::BatchNormKernels counting = fused::register_batch_norm_kernels({});
    counting.forward = &counting_batch_norm;
    fused::register_batch_norm_kernels(counting);
    reference_batch_norm_calls = 0;
    std::tie(fused_loss, fused_state) = step(fused_model);
  }
  const auto [loss, state] = step(model);
  int norms = 0, downsamples = 0;
  for (const auto& m : model->named_modules()) {
    if (!m.value()->as<torch::nn::BatchNorm2d>()) continue;
    ++(m.key().find("downsample") == std::string::npos ? norms : downsamples);
  }
  EXPECT_EQ(reference_batch_norm_calls, norms);
  EXPECT_GT(downsamples, 0);
  EXPECT_NEAR(fused_loss.item<double>(), loss.item<double>(), 1e-5);
  for (const auto& [name, value] : state) {
    ASSERT_TRUE(fused_state[name].defined()) << name;
    const double scale = std::max(1e-6, value.abs().max().to(at::kDouble).item<double>());
    // float32 sums in another order through every norm's backward; a wrong wiring is off by O(1).
    EXPECT_LT((fused_state[name] - value).abs().max().to(at::kDouble).item<double>() / scale, 1e-3) << name;
  }
}


// verify's batch-norm-backward-constant-statistics reaches the fused node's backward (recorded in
// forward; this backward runs outside the fault's scope): d_x = weight / std times the ReLU's
// gradient, while the output stays right.
TEST(FusedSteps, TheBatchNormFaultReachesTheFusedBackward) {
  const testing::ReferenceFusedKernels references;
  auto random = at::make_generator<at::CPUGeneratorImpl>(13);
  torch::nn::BatchNorm2d norm(4);
  norm->train();
  const at::Tensor x =
      at::randn({2, 4, 3, 3}, random).contiguous(at::MemoryFormat::ChannelsLast).requires_grad_(true);
  const at::Tensor g = at::randn({2, 4, 3, 3}, random);
  ASSERT_TRUE(fused::batch_norm_takes(x, {}, *norm));
  at::Tensor out;
  {
    const verify::Injection fault(verify::find_fault("batch-norm-backward-constant-statistics"));
    out = fused::batch_norm(x, {}, *norm, /*relu=*/true);
  }
  (out * g).sum().backward();
  const at::Tensor mean = x.detach().mean({0, 2, 3}, true);
  const at::Tensor invstd = at::rsqrt((x.detach() - mean).pow(2).mean({0, 2, 3}, true) + 1e-5);
  const at::Tensor want = g * out.detach().gt(0) * invstd * norm->weight.detach().view({1, -1, 1, 1});
  EXPECT_LT(worst_relative(x.grad(), want), 1e-5);
}

}  // namespace
}  // namespace mlspeed
