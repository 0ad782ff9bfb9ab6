#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/io/weights.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/train/autocast.h"
#include "testing/test_support.h"

namespace mlspeed::gpt2 {
namespace {

GPT2Config tiny_config() {
  GPT2Config c;
  c.vocab_size = 97;
  c.n_positions = 24;
  c.n_embd = 32;
  c.n_layer = 2;
  c.n_head = 4;
  return c;
}

TEST(Gpt2, SmallHasHuggingFacesParameterCount) {
  const GPT2Config small;  // the gpt2 repository's config.json
  EXPECT_EQ(count_params(small), 124'439'808);
  // nanoGPT's estimate_mfu N: less the position embedding 1024 x 768.
  EXPECT_EQ(mfu_params(small), 124'439'808 - 1024 * 768);
  EXPECT_EQ(mfu_params(small), 123'653'376);
}

TEST(Gpt2, CountFromConfigEqualsBuiltModel) {
  for (int64_t layers : {1, 3}) {
    GPT2Config c = tiny_config();
    c.n_layer = layers;
    GPT2Model model(c);
    EXPECT_EQ(count_params(c), num_params(*model)) << layers << " layers";
    EXPECT_EQ(mfu_params(c), num_params(*model) - model->wpe->weight.numel());
  }
}

// The names and shapes of the gpt2 repository's model.safetensors (GPT2Model), layer 0 and the
// rest, for GPT-2 small's shapes scaled down: Conv1D weights are (in, out).
TEST(Gpt2, ParameterNamesAndShapesAreHuggingFaces) {
  GPT2Config c = tiny_config();
  c.n_layer = 1;
  GPT2Model model(c);
  const int64_t C = c.n_embd;
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {{"wte.weight", {97, C}},
                                                                              {"wpe.weight", {24, C}},
                                                                              {"h.0.ln_1.weight", {C}},
                                                                              {"h.0.ln_1.bias", {C}},
                                                                              {"h.0.attn.c_attn.weight", {C, 3 * C}},
                                                                              {"h.0.attn.c_attn.bias", {3 * C}},
                                                                              {"h.0.attn.c_proj.weight", {C, C}},
                                                                              {"h.0.attn.c_proj.bias", {C}},
                                                                              {"h.0.ln_2.weight", {C}},
                                                                              {"h.0.ln_2.bias", {C}},
                                                                              {"h.0.mlp.c_fc.weight", {C, 4 * C}},
                                                                              {"h.0.mlp.c_fc.bias", {4 * C}},
                                                                              {"h.0.mlp.c_proj.weight", {4 * C, C}},
                                                                              {"h.0.mlp.c_proj.bias", {C}},
                                                                              {"ln_f.weight", {C}},
                                                                              {"ln_f.bias", {C}}};
  std::vector<std::pair<std::string, std::vector<int64_t>>> actual;
  for (const auto& item : model->named_parameters()) actual.emplace_back(item.key(), item.value().sizes().vec());
  EXPECT_EQ(actual, expected);
  EXPECT_TRUE(model->named_buffers().is_empty()) << "causal masks are no checkpoint state";
}

TEST(Gpt2, TiedHeadIsOneParameterAndIsUsed) {
  GPT2Model model(tiny_config());
  int wte_seen = 0;
  for (const auto& p : model->parameters())
    if (p.is_same(model->wte->weight)) ++wte_seen;
  EXPECT_EQ(wte_seen, 1);
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

TEST(Gpt2, ForwardGivesFiniteLogitsPerPosition) {
  GPT2Model model(tiny_config());
  const at::Tensor idx = at::randint(97, {3, 24}, at::kLong);
  const at::Tensor logits = model->forward(idx);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 24, 97}));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  EXPECT_THROW(model->forward(at::zeros({1, 25}, at::kLong)), c10::Error);  // more than n_positions
}

TEST(Gpt2, IsCausal) {
  GPT2Model model(tiny_config());
  model->eval();
  torch::NoGradGuard no_grad;
  at::Tensor idx = at::randint(97, {1, 16}, at::kLong);
  const at::Tensor a = model->forward(idx);
  idx[0][10] = (idx[0][10].item<int64_t>() + 1) % 97;
  const at::Tensor b = model->forward(idx);
  const at::Tensor diff = (a - b).abs().amax(-1)[0];
  EXPECT_EQ(diff.narrow(0, 0, 10).max().item<float>(), 0.0f);
  EXPECT_GT(diff.narrow(0, 10, 6).min().item<float>(), 0.0f);
}

TEST(Gpt2, InitialisesAsHuggingFaceAndNanoGpt) {
  torch::manual_seed(0);
  GPT2Config c = tiny_config();
  c.n_embd = 256;
  c.n_layer = 4;
  c.n_positions = 64;
  GPT2Model model(c);
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

// One block written out with plain ops as HF's modeling_gpt2.py reads: pre-norm residuals,
// Conv1D as x @ W + b, causal softmax attention, GELU with the tanh approximation.
TEST(Gpt2, BlockMatchesModelingGpt2WrittenOut) {
  const GPT2Config c = tiny_config();
  Block block(c);
  torch::NoGradGuard no_grad;
  for (auto& p : block->parameters()) p.normal_(0.0, 0.3);  // LayerNorm gains and biases too
  const at::Tensor x = at::randn({2, 7, 32});
  const auto ln = [](const torch::nn::LayerNorm& m, const at::Tensor& t) {
    const at::Tensor mean = t.mean(-1, true), var = t.var(-1, /*unbiased=*/false, true);
    return (t - mean) / at::sqrt(var + 1e-5) * m->weight + m->bias;
  };
  const auto conv1d = [](const Conv1D& m, const at::Tensor& t) { return t.matmul(m->weight) + m->bias; };
  const at::Tensor qkv = conv1d(block->attn->c_attn, ln(block->ln_1, x));
  const auto heads = [](const at::Tensor& t) { return t.reshape({2, 7, 4, 8}).permute({0, 2, 1, 3}); };
  const at::Tensor q = heads(qkv.narrow(2, 0, 32)), k = heads(qkv.narrow(2, 32, 32)), v = heads(qkv.narrow(2, 64, 32));
  const at::Tensor future = at::ones({7, 7}, at::kBool).triu(1);
  const at::Tensor att =
      at::softmax((q.matmul(k.transpose(-2, -1)) / std::sqrt(8.0)).masked_fill(future, -INFINITY), -1);
  const at::Tensor y = att.matmul(v).permute({0, 2, 1, 3}).reshape({2, 7, 32});
  const at::Tensor x1 = x + conv1d(block->attn->c_proj, y);
  const at::Tensor h = conv1d(block->mlp->c_fc, ln(block->ln_2, x1));
  const at::Tensor gelu_new = 0.5 * h * (1 + at::tanh(std::sqrt(2.0 / std::acos(-1.0)) * (h + 0.044715 * h.pow(3))));
  const at::Tensor expected = x1 + conv1d(block->mlp->c_proj, gelu_new);
  EXPECT_LT((block->forward(x) - expected).abs().max().item<double>(), 1e-4);
}

// HF's "gelu_new" is GELU's tanh approximation; the exact (erf) GELU of nanoGPT differs by up to
// ~1e-3 around |x| = 2, which the MLP has to show.
TEST(Gpt2, MlpUsesTheTanhApproximationOfGelu) {
  MLP mlp(tiny_config());
  torch::NoGradGuard no_grad;
  for (auto& p : mlp->parameters()) p.normal_(0.0, 0.3);
  const at::Tensor x = at::randn({3, 32});
  const at::Tensor h = x.matmul(mlp->c_fc->weight) + mlp->c_fc->bias;
  const auto out = [&](const at::Tensor& act) { return act.matmul(mlp->c_proj->weight) + mlp->c_proj->bias; };
  const double pi = std::acos(-1.0);
  const at::Tensor tanh_form = out(0.5 * h * (1 + at::tanh(std::sqrt(2.0 / pi) * (h + 0.044715 * h.pow(3)))));
  const at::Tensor erf_form = out(0.5 * h * (1 + at::erf(h / std::sqrt(2.0))));
  EXPECT_LT((mlp->forward(x) - tanh_form).abs().max().item<double>(), 1e-5);
  EXPECT_GT((mlp->forward(x) - erf_form).abs().max().item<double>(), 1e-4);
}

// Feeding the sequence through the cache (a prompt, then chunks and single tokens) gives the
// logits of the full forward at every position.
TEST(Gpt2, CachedForwardEqualsFullForward) {
  GPT2Model model(tiny_config());
  model->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor idx = at::randint(97, {2, 12}, at::kLong);
  const at::Tensor full = model->forward(idx);
  KVCache cache = model->make_cache(2, 16);
  int64_t pos = 0;
  for (int64_t chunk : {4, 1, 3, 1, 1, 2}) {  // prompt on an empty cache, one token, a masked chunk
    const at::Tensor last = model->forward_cached(idx.narrow(1, pos, chunk), cache);
    pos += chunk;
    EXPECT_EQ(cache.length(), pos);
    EXPECT_EQ(last.sizes(), (std::vector<int64_t>{2, 97}));
    EXPECT_LT((last - full.select(1, pos - 1)).abs().max().item<double>(), 1e-5) << "at position " << pos;
  }
  EXPECT_THROW(model->forward_cached(idx.narrow(1, 0, 5), cache), c10::Error);  // past the cache's 16
}

// Static decoding (the step a CUDA graph replays) at the cache's device position gives the
// logits and tokens of the host-position path, token by token after a prompt, for a batch.
TEST(Gpt2, DecodeStepAtTheDevicePositionEqualsCachedForward) {
  GPT2Model model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor idx = at::randint(97, {3, 12}, at::kLong);
  KVCache host = model->make_cache(3, 12), device = model->make_cache(3, 12);
  const at::Tensor prompt = idx.narrow(1, 0, 4);
  const at::Tensor first = model->forward_cached(prompt, host);
  EXPECT_TRUE(model->forward_cached(prompt, device).equal(first));  // the prompt pass fills both alike
  device.set_position(4);
  for (int64_t t = 4; t < 12; ++t) {
    const at::Tensor token = idx.narrow(1, t, 1);
    const at::Tensor expected = model->forward_cached(token, host);
    const at::Tensor got = model->decode_step(token, device);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5) << "at position " << t;
    EXPECT_TRUE(got.argmax(-1).equal(expected.argmax(-1))) << "at position " << t;
  }
  EXPECT_EQ(device.position().item<int64_t>(), 12);
  EXPECT_EQ(device.length(), 4) << "decode steps leave the host position alone";
  EXPECT_THROW(model->decode_step(idx.narrow(1, 0, 2), device), c10::Error);  // one token per sequence
}

TEST(Gpt2, RunsUnderBFloat16AutocastWithFloat32Weights) {
  GPT2Model model(tiny_config());
  const at::Tensor idx = at::randint(97, {2, 16}, at::kLong);
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

TEST(Gpt2, WeightsRoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.file("gpt2.safetensors");
  torch::manual_seed(1);
  GPT2Model a(tiny_config());
  save_weights(*a, path);
  torch::manual_seed(2);
  GPT2Model b(tiny_config());
  a->eval();
  b->eval();
  torch::NoGradGuard no_grad;
  const at::Tensor idx = at::randint(97, {1, 10}, at::kLong);
  EXPECT_FALSE(a->forward(idx).equal(b->forward(idx)));
  load_weights(*b, path);
  EXPECT_TRUE(a->forward(idx).equal(b->forward(idx)));
}

TEST(Gpt2, TrainingFlopsPerTokenIsNanoGptsEstimate) {
  // 6N + 12 L H Q T with N = 123,653,376, L = H = 12, Q = 64, T = 1024.
  EXPECT_DOUBLE_EQ(training_flops_per_token(GPT2Config{}, 1024), 6.0 * 123'653'376 + 12.0 * 12 * 12 * 64 * 1024);
  EXPECT_DOUBLE_EQ(training_flops_per_token(GPT2Config{}, 1024), 855'166'464.0);
}

TEST(Gpt2, GenerationFlopsOfTheRainInSpain) {
  // Prompt 4, 16 new tokens: P = 19 positions through the model.
  //   layers: 2 * (123,653,376 - 50,257 * 768) * 19 = 2 * 85,056,000 * 19 = 3,232,128,000
  //   attention: 4 * 12 * 768 * (1 + 2 + ... + 19) = 36,864 * 190 = 7,004,160
  //   head, once per new token: 2 * 38,597,376 * 16 = 1,235,116,032
  EXPECT_DOUBLE_EQ(generation_flops(GPT2Config{}, 4, 16), 4'474'248'192.0);
  EXPECT_DOUBLE_EQ(generation_flops(GPT2Config{}, 4, 0), 0.0);
}

}  // namespace
}  // namespace mlspeed::gpt2
