#include "mlspeed/models/gpt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "mlspeed/train/autocast.h"

namespace mlspeed::nanogpt {
namespace {

GPTConfig tiny_config(bool bias) { return GPTConfig{65, 16, 2, 2, 32, 0.0, bias}; }

std::vector<std::string> names_of(const torch::nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& item : m.named_parameters()) names.push_back(item.key());
  return names;
}

TEST(Gpt, ShakespeareCharHasNanoGptsParameterCount) {
  const GPTConfig config{65, 256, 6, 6, 384, 0.2, false};
  GPT model(config);
  EXPECT_EQ(num_params(*model, /*non_embedding=*/true), 10'646'784);
  EXPECT_EQ(num_params(*model, /*non_embedding=*/false), 10'646'784 + 256 * 384);
  EXPECT_EQ(count_params(config, true), 10'646'784);
}

TEST(Gpt, CountFromConfigEqualsBuiltModel) {
  for (bool bias : {false, true}) {
    for (int64_t layers : {1, 3}) {
      const GPTConfig config{50, 24, layers, 4, 16, 0.1, bias};
      GPT model(config);
      EXPECT_EQ(count_params(config, true), num_params(*model, true))
          << "bias " << bias << " layers " << layers;
      EXPECT_EQ(count_params(config, false), num_params(*model, false))
          << "bias " << bias << " layers " << layers;
    }
  }
}

TEST(Gpt, ParameterNamesAreNanoGpts) {
  GPT model(GPTConfig{65, 16, 1, 2, 32, 0.0, /*bias=*/false});
  const std::vector<std::string> expected = {"transformer.wte.weight",
                                             "transformer.wpe.weight",
                                             "transformer.h.0.ln_1.weight",
                                             "transformer.h.0.attn.c_attn.weight",
                                             "transformer.h.0.attn.c_proj.weight",
                                             "transformer.h.0.ln_2.weight",
                                             "transformer.h.0.mlp.c_fc.weight",
                                             "transformer.h.0.mlp.c_proj.weight",
                                             "transformer.ln_f.weight"};
  EXPECT_EQ(names_of(*model), expected);
}

TEST(Gpt, BiasAddsExactlyNanoGptsBiasNames) {
  GPT with(GPTConfig{65, 16, 1, 2, 32, 0.0, true});
  GPT without(GPTConfig{65, 16, 1, 2, 32, 0.0, false});
  std::set<std::string> extra;
  for (const auto& n : names_of(*with)) extra.insert(n);
  for (const auto& n : names_of(*without)) extra.erase(n);
  const std::set<std::string> expected = {
      "transformer.h.0.ln_1.bias", "transformer.h.0.attn.c_attn.bias", "transformer.h.0.attn.c_proj.bias",
      "transformer.h.0.ln_2.bias", "transformer.h.0.mlp.c_fc.bias",    "transformer.h.0.mlp.c_proj.bias",
      "transformer.ln_f.bias"};
  EXPECT_EQ(extra, expected);
}

TEST(Gpt, TiedHeadIsOneParameter) {
  GPT model(tiny_config(false));
  int wte_seen = 0;
  for (const auto& p : model->parameters())
    if (p.is_same(model->wte->weight)) ++wte_seen;
  EXPECT_EQ(wte_seen, 1);
  // The head really uses wte: logits are the final hidden states times wte^T, so a change of
  // one row of wte changes exactly that vocabulary entry's logits (besides its own input use).
  const at::Tensor idx = at::zeros({1, 4}, at::kLong);  // only token 0 is embedded
  at::Tensor before, after;
  {
    torch::NoGradGuard no_grad;
    before = model->forward(idx);
    model->wte->weight[5].add_(1.0);
    after = model->forward(idx);
  }
  const at::Tensor changed = (after - before).abs().amax({0, 1}) > 0;
  EXPECT_TRUE(changed[5].item<bool>());
  EXPECT_EQ(changed.sum().item<int64_t>(), 1);
}

TEST(Gpt, ForwardGivesLogitsPerPosition) {
  GPT model(tiny_config(true));
  const at::Tensor idx = at::randint(65, {3, 16}, at::kLong);
  const at::Tensor logits = model->forward(idx);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 16, 65}));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  EXPECT_THROW(model->forward(at::zeros({1, 17}, at::kLong)), c10::Error);  // longer than block_size
}

TEST(Gpt, IsCausal) {
  GPT model(tiny_config(false));
  model->eval();
  torch::NoGradGuard no_grad;
  at::Tensor idx = at::randint(65, {1, 16}, at::kLong);
  const at::Tensor a = model->forward(idx);
  idx[0][10] = (idx[0][10].item<int64_t>() + 1) % 65;  // a change at position 10...
  const at::Tensor b = model->forward(idx);
  const at::Tensor diff = (a - b).abs().amax(-1)[0];
  EXPECT_EQ(diff.narrow(0, 0, 10).max().item<float>(), 0.0f);  // ...is invisible before it
  EXPECT_GT(diff.narrow(0, 10, 6).min().item<float>(), 0.0f);  // and seen from it on
}

TEST(Gpt, InitialisesAsNanoGpt) {
  torch::manual_seed(0);
  GPT model(GPTConfig{65, 64, 4, 4, 256, 0.0, true});
  const auto& block = model->h[0]->as<BlockImpl>();
  const double residual_std = 0.02 / std::sqrt(2.0 * 4);
  EXPECT_NEAR(block->attn->c_attn->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(block->attn->c_proj->weight.std().item<double>(), residual_std, 0.0005);
  EXPECT_NEAR(block->mlp->c_proj->weight.std().item<double>(), residual_std, 0.0005);
  EXPECT_NEAR(block->mlp->c_fc->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(model->wte->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(model->wpe->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(block->attn->c_attn->bias.abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(block->ln_1->weight.eq(1).all().item<bool>());
  EXPECT_TRUE(block->ln_1->bias.eq(0).all().item<bool>());
}

TEST(Gpt, DropoutOnlyInTraining) {
  GPT model(GPTConfig{65, 16, 2, 2, 32, 0.5, false});
  const at::Tensor idx = at::randint(65, {2, 16}, at::kLong);
  torch::NoGradGuard no_grad;
  model->eval();
  EXPECT_TRUE(model->forward(idx).equal(model->forward(idx)));
  model->train();
  EXPECT_FALSE(model->forward(idx).equal(model->forward(idx)));
}

TEST(Gpt, RunsUnderBFloat16AutocastWithFloat32Weights) {
  GPT model(tiny_config(false));
  const at::Tensor idx = at::randint(65, {2, 16}, at::kLong);
  at::Tensor logits;
  {
    train::AutocastGuard autocast(c10::DeviceType::CPU, at::kBFloat16);
    logits = model->forward(idx);
  }
  EXPECT_EQ(logits.scalar_type(), at::kBFloat16);
  logits.to(at::kFloat).logsumexp(-1).mean().backward();
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.scalar_type(), at::kFloat);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().scalar_type(), at::kFloat);
  }
}

// One block written out with plain ops, as model.py reads: pre-norm residuals, causal softmax
// attention, exact (erf) GELU.
TEST(Gpt, BlockMatchesModelPyWrittenOut) {
  const GPTConfig c{65, 16, 1, 4, 32, 0.0, true};
  Block block(c);
  torch::NoGradGuard no_grad;
  for (auto& p : block->parameters()) p.normal_(0.0, 0.3);  // LayerNorm gains and biases too
  const at::Tensor x = at::randn({2, 7, 32});
  const auto ln = [](const LayerNorm& m, const at::Tensor& t) {
    const at::Tensor mean = t.mean(-1, true), var = t.var(-1, /*unbiased=*/false, true);
    return (t - mean) / at::sqrt(var + 1e-5) * m->weight + m->bias;
  };
  const auto lin = [](const mlspeed::nn::Linear& m, const at::Tensor& t) {
    return t.matmul(m->weight.t()) + m->bias;
  };
  const at::Tensor qkv = lin(block->attn->c_attn, ln(block->ln_1, x));
  const auto heads = [](const at::Tensor& t) { return t.reshape({2, 7, 4, 8}).permute({0, 2, 1, 3}); };
  const at::Tensor q = heads(qkv.narrow(2, 0, 32)), k = heads(qkv.narrow(2, 32, 32)),
                   v = heads(qkv.narrow(2, 64, 32));
  const at::Tensor future = at::ones({7, 7}, at::kBool).triu(1);
  const at::Tensor att =
      at::softmax((q.matmul(k.transpose(-2, -1)) / std::sqrt(8.0)).masked_fill(future, -INFINITY), -1);
  const at::Tensor y = att.matmul(v).permute({0, 2, 1, 3}).reshape({2, 7, 32});
  const at::Tensor x1 = x + lin(block->attn->c_proj, y);
  const at::Tensor h = lin(block->mlp->c_fc, ln(block->ln_2, x1));
  const at::Tensor gelu = 0.5 * h * (1 + at::erf(h / std::sqrt(2.0)));
  const at::Tensor expected = x1 + lin(block->mlp->c_proj, gelu);
  EXPECT_LT((block->forward(x) - expected).abs().max().item<double>(), 1e-4);
}

TEST(Gpt, TrainingFlopsPerTokenIsNanoGptsEstimate) {
  const GPTConfig c{65, 256, 6, 6, 384, 0.2, false};
  // 6N + 12 L H Q T with N = 10,646,784, L = H = 6, Q = 64, T = 256.
  EXPECT_DOUBLE_EQ(training_flops_per_token(c, 10'646'784, 256), 6.0 * 10'646'784 + 12.0 * 6 * 6 * 64 * 256);
}

}  // namespace
}  // namespace mlspeed::nanogpt
