// GPT-2's training loss on a GPU (label gpu; skipped without a CUDA device): the head padded to
// an aligned vocabulary, with -inf logits in the padding, gives the loss and the gradients of the
// plain head, in fp32 and under bf16 autocast.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cmath>
#include <optional>

#include "mlspeed/models/gpt2.h"
#include "mlspeed/train/autocast.h"

namespace mlspeed::gpt2 {
namespace {

struct LossAndGrads {
  at::Tensor loss, wte_grad, c_fc_grad;
};

LossAndGrads run(GPT2Model& model, const at::Tensor& idx, const at::Tensor& targets, bool padded,
                 std::optional<at::ScalarType> autocast_dtype) {
  model->zero_grad();
  at::Tensor loss;
  {
    std::optional<train::AutocastGuard> autocast;
    if (autocast_dtype) autocast.emplace(c10::DeviceType::CUDA, *autocast_dtype);
    if (padded) {
      loss = model->loss(idx, targets);
    } else {
      const at::Tensor logits = model->forward(idx);
      loss = at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), targets.reshape(-1));
    }
  }
  loss.backward();
  return {loss.detach().to(at::kDouble), model->wte->weight.grad().to(at::kDouble),
          model->named_parameters()["h.0.mlp.c_fc.weight"].grad().to(at::kDouble)};
}

double relative(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

TEST(Gpt2Loss, ThePaddedHeadGivesThePlainHeadsLossAndGradients) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  GPT2Config config;
  config.vocab_size = 1000;  // padded to 1024
  config.n_positions = 64;
  config.n_embd = 64;
  config.n_layer = 2;
  config.n_head = 4;
  torch::manual_seed(0);
  GPT2Model model(config);
  model->to(torch::kCUDA);
  const at::Tensor idx = at::randint(config.vocab_size, {3, 40}, at::device(at::kCUDA).dtype(at::kLong));
  const at::Tensor targets = at::randint(config.vocab_size, {3, 40}, at::device(at::kCUDA).dtype(at::kLong));
  for (const std::optional<at::ScalarType> autocast : {std::optional<at::ScalarType>{}, std::optional{at::kBFloat16}}) {
    const LossAndGrads plain = run(model, idx, targets, false, autocast);
    const LossAndGrads padded = run(model, idx, targets, true, autocast);
    const double tolerance = autocast ? 2e-2 : 1e-5;
    EXPECT_TRUE(std::isfinite(padded.loss.item<double>()));
    EXPECT_LT(relative(padded.loss, plain.loss), tolerance);
    EXPECT_LT(relative(padded.wte_grad, plain.wte_grad), tolerance);
    EXPECT_LT(relative(padded.c_fc_grad, plain.c_fc_grad), tolerance);
    EXPECT_FALSE(padded.wte_grad.isnan().any().item<bool>());
  }
}

}  // namespace
}  // namespace mlspeed::gpt2
