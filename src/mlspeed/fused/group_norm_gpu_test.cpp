// Inference's fused GroupNorm (+ per-channel add, + SiLU) on channels-last activations
// (fused/group_norm.h) on a CUDA device (label gpu): against float64 and against LibTorch's
// at::group_norm and at::silu, in float32, float16 and bfloat16, for Stable Diffusion's shapes
// (320 to 1280 channels in 32 groups), odd spatial sizes, 2048 channels, a group whose mean is
// far from zero against its spread; the output channels-last and the same bits on every run; the
// gradients (backward recomputes LibTorch's ops) LibTorch's.
// Skipped without a CUDA device; without a CUDA compiler the kernels are not built and the test
// says so.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <string>
#include <vector>

#include "mlspeed/fused/group_norm.h"

namespace mlspeed {
namespace {

struct GroupNormCase {
  int64_t n, c, h, w, groups;
  double offset;  // added to every input: a mean far from zero
};

// The unfused ops in float64 on the CPU, from the inputs as the device holds them; the norm's
// output rounded to the dtype before SiLU, as LibTorch's two ops round it.
at::Tensor group_norm_float64(const at::Tensor& x, const at::Tensor& add, int64_t groups, const at::Tensor& weight,
                              const at::Tensor& bias, bool silu) {
  const auto cpu64 = [](const at::Tensor& t) { return t.to(at::kCPU, at::kDouble); };
  at::Tensor input = cpu64(x);
  if (add.defined()) input = (input + cpu64(add).unsqueeze(-1).unsqueeze(-1)).to(x.scalar_type()).to(at::kDouble);
  at::Tensor normed = at::group_norm(input, groups, cpu64(weight), cpu64(bias), 1e-5);
  if (!silu) return normed;
  normed = normed.to(x.scalar_type()).to(at::kDouble);
  return at::silu(normed);
}

void expect_group_norm_close(const at::Tensor& got, const at::Tensor& want, double unit, const char* what) {
  const double bound = want.abs().max().item<double>() * unit + 1e-6;
  const double worst = (got.to(at::kCPU, at::kDouble) - want).abs().max().item<double>();
  EXPECT_LE(worst, bound) << what;
}

TEST(GroupNormGpu, MatchesFloat64AndLibTorchChannelsLast) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device gpu(c10::DeviceType::CUDA, 0);
  c10::InferenceMode inference;
  const std::vector<GroupNormCase> cases = {
      {2, 320, 64, 64, 32, 0.0}, {2, 1280, 8, 8, 32, 0.0}, {3, 64, 7, 9, 8, 0.0},
      {1, 2048, 3, 5, 32, 0.0},  {2, 640, 16, 16, 32, 50.0}};
  for (at::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const GroupNormCase& k : cases) {
      for (bool with_add : {false, true}) {
        for (bool silu : {true, false}) {
          SCOPED_TRACE(std::string(c10::toString(dtype)) + " " + std::to_string(k.n) + "x" + std::to_string(k.c) +
                       "x" + std::to_string(k.h) + "x" + std::to_string(k.w) + " groups " +
                       std::to_string(k.groups) + (with_add ? " with add" : "") + (silu ? " + silu" : ""));
          auto random = at::make_generator<at::CPUGeneratorImpl>(k.c * k.h + with_add);
          const at::TensorOptions on_gpu = at::TensorOptions(dtype).device(gpu);
          const at::Tensor x = (at::randn({k.n, k.c, k.h, k.w}, random) * 3 + k.offset)
                                   .to(on_gpu)
                                   .contiguous(at::MemoryFormat::ChannelsLast);
          const at::Tensor weight = (at::randn({k.c}, random) + 1).to(on_gpu);
          const at::Tensor bias = at::randn({k.c}, random).to(on_gpu);
          const at::Tensor add = with_add ? at::randn({k.n, k.c}, random).to(on_gpu) : at::Tensor();
#ifdef MLSPEED_FUSED_CUDA_KERNELS
          ASSERT_TRUE(fused::group_norm_takes(x, add, k.groups, weight, bias)) << "built with nvcc, yet not taken";
#else
          if (!fused::group_norm_takes(x, add, k.groups, weight, bias)) GTEST_SKIP() << "built without nvcc";
#endif
          const at::Tensor out = fused::group_norm(x, add, k.groups, weight, bias, 1e-5, silu);
          ASSERT_EQ(out.scalar_type(), dtype);
          EXPECT_TRUE(out.is_contiguous(at::MemoryFormat::ChannelsLast));
          const double unit = dtype == at::kFloat ? 1e-5 : dtype == at::kHalf ? 2e-3 : 1.6e-2;
          expect_group_norm_close(out, group_norm_float64(x, add, k.groups, weight, bias, silu), unit,
                                  "against float64");
          const at::Tensor input = with_add ? x + add.unsqueeze(-1).unsqueeze(-1) : x;
          const at::Tensor normed = at::group_norm(input.contiguous(), k.groups, weight, bias, 1e-5);
          const at::Tensor libtorch = (silu ? at::silu(normed) : normed).to(at::kCPU, at::kDouble);
          expect_group_norm_close(out, libtorch, unit, "against LibTorch");
          EXPECT_TRUE(at::equal(out, fused::group_norm(x, add, k.groups, weight, bias, 1e-5, silu)))
              << "not the same bits on a second run";
        }
      }
    }
  }
}

// What the kernels do not take goes to LibTorch's ops: a channels-first tensor, an odd group size.
TEST(GroupNormGpu, WhatTheKernelsDoNotTakeIsLibTorchs) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const at::TensorOptions on_gpu = at::TensorOptions(at::kFloat).device(c10::Device(c10::DeviceType::CUDA, 0));
  const at::Tensor x = at::randn({2, 96, 5, 5}, on_gpu);
  const at::Tensor weight = at::ones({96}, on_gpu), bias = at::zeros({96}, on_gpu);
  EXPECT_FALSE(fused::group_norm_takes(x, {}, 32, weight, bias)) << "channels-first";
  const at::Tensor last = x.contiguous(at::MemoryFormat::ChannelsLast);
  EXPECT_FALSE(fused::group_norm_takes(last, {}, 32, weight, bias)) << "3 channels a group";
  const at::Tensor out = fused::group_norm(x, {}, 32, weight, bias, 1e-5, true);
  EXPECT_TRUE(at::allclose(out, at::silu(at::group_norm(x, 32, weight, bias, 1e-5))));
}

// With gradients (the verifier's model checks take them): the fused forward, and backward's
// recomputed LibTorch ops give LibTorch's gradients for x, the add, the weight and the bias.
TEST(GroupNormGpu, GradientsAreLibTorchs) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const at::TensorOptions on_gpu = at::TensorOptions(at::kFloat).device(c10::Device(c10::DeviceType::CUDA, 0));
  auto random = at::make_generator<at::CPUGeneratorImpl>(12);
  const auto leaf = [&](std::vector<int64_t> sizes, bool channels_last) {
    at::Tensor t = at::randn(sizes, random).to(on_gpu);
    if (channels_last) t = t.contiguous(at::MemoryFormat::ChannelsLast);
    return t.requires_grad_(true);
  };
  const at::Tensor x = leaf({2, 64, 6, 5}, true), add = leaf({2, 64}, false);
  const at::Tensor weight = leaf({64}, false), bias = leaf({64}, false);
  const at::Tensor g = at::randn({2, 64, 6, 5}, random).to(on_gpu);
  if (!fused::group_norm_takes(x, add, 8, weight, bias)) GTEST_SKIP() << "built without nvcc";
  const auto grads = [&](bool fused_path) {
    for (const at::Tensor* t : {&x, &add, &weight, &bias})
      if (t->grad().defined()) t->mutable_grad().zero_();
    const at::Tensor out = fused_path ? fused::group_norm(x, add, 8, weight, bias, 1e-5, true)
                                      : at::silu(at::group_norm(x + add.unsqueeze(-1).unsqueeze(-1), 8, weight, bias));
    if (fused_path) EXPECT_NE(std::string(out.grad_fn()->name()).find("FusedGroupNorm"), std::string::npos);
    (out * g).sum().backward();
    return std::vector<at::Tensor>{x.grad().clone(), add.grad().clone(), weight.grad().clone(), bias.grad().clone()};
  };
  const std::vector<at::Tensor> fused_grads = grads(true), want = grads(false);
  const char* names[] = {"x", "add", "weight", "bias"};
  for (size_t i = 0; i < 4; ++i)
    EXPECT_TRUE(at::allclose(fused_grads[i], want[i], 1e-4, 1e-5)) << names[i];
}

}  // namespace
}  // namespace mlspeed
