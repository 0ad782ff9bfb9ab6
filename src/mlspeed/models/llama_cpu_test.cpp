#include "mlspeed/models/llama.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <string>
#include <vector>

#include "mlspeed/compat/torch_compat.h"

namespace mlspeed::llama {
namespace {

// vocab, hidden, ffn, layers, heads, kv heads, max positions
LlamaConfig small_config(int64_t heads, int64_t kv_heads, int64_t layers = 2) {
  LlamaConfig c;
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.max_position_embeddings = 40;
  return c;
}

LlamaForCausalLM random_model(const LlamaConfig& c, uint64_t seed) {
  LlamaForCausalLM model(c);
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(seed));
  model->eval();
  return model;
}

at::Tensor random_ids(const LlamaConfig& c, int64_t batch, int64_t length, uint64_t seed) {
  return at::randint(c.vocab_size, {batch, length}, at::make_generator<at::CPUGeneratorImpl>(seed), at::kLong);
}

int64_t built_params(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

void expect_close(const at::Tensor& a, const at::Tensor& b, double tol, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(diff, tol) << what;
}

TEST(Llama, ParameterNamesAreHuggingFaces) {
  LlamaForCausalLM model(small_config(4, 2, 1));
  std::vector<std::string> names;
  for (const auto& item : model->named_parameters()) names.push_back(item.key());
  const std::vector<std::string> expected = {"model.embed_tokens.weight",
                                             "model.layers.0.self_attn.q_proj.weight",
                                             "model.layers.0.self_attn.k_proj.weight",
                                             "model.layers.0.self_attn.v_proj.weight",
                                             "model.layers.0.self_attn.o_proj.weight",
                                             "model.layers.0.mlp.gate_proj.weight",
                                             "model.layers.0.mlp.up_proj.weight",
                                             "model.layers.0.mlp.down_proj.weight",
                                             "model.layers.0.input_layernorm.weight",
                                             "model.layers.0.post_attention_layernorm.weight",
                                             "model.norm.weight",
                                             "lm_head.weight"};
  EXPECT_EQ(names, expected);
  EXPECT_TRUE(model->named_buffers().is_empty()) << "rotary tables are no buffers: checkpoints lack them";
  EXPECT_EQ(model->model->layers[0]->named_parameters()["self_attn.k_proj.weight"].sizes(),
            (std::vector<int64_t>{2 * 8, 32}));  // kv heads x head_dim, hidden
}

TEST(Llama, CountsOfLlama2_7BAndTinyLlamaFromTheConfig) {
  // Llama-2-7B: 32 * (4 * 4096^2 + 3 * 4096 * 11008 + 2 * 4096) + 4096 + 2 * 32000 * 4096.
  EXPECT_EQ(count_params(LlamaConfig{}), 6'738'415'616);
  EXPECT_EQ(count_body_params(LlamaConfig{}), 6'738'415'616 - 2 * 32000 * 4096);
  LlamaConfig tiny_llama;  // TinyLlama-1.1B: 22 layers, 2048 wide, 32 heads, 4 kv heads, ffn 5632
  tiny_llama.hidden_size = 2048;
  tiny_llama.intermediate_size = 5632;
  tiny_llama.num_hidden_layers = 22;
  tiny_llama.num_key_value_heads = 4;
  EXPECT_EQ(count_params(tiny_llama), 1'100'048'384);
}

TEST(Llama, CountFromConfigEqualsBuiltModel) {
  for (int64_t kv : {1, 2, 4}) {
    const LlamaConfig c = small_config(4, kv, 3);
    LlamaForCausalLM model(c);
    EXPECT_EQ(count_params(c), built_params(*model)) << "kv heads " << kv;
    EXPECT_EQ(count_body_params(c),
              built_params(*model) - model->model->embed_tokens->weight.numel() - model->lm_head->weight.numel());
  }
}

TEST(Llama, RejectsInconsistentConfigs) {
  EXPECT_THROW(LlamaForCausalLM(small_config(4, 3)), c10::Error);  // 3 kv heads cannot serve 4
  EXPECT_THROW(LlamaForCausalLM(small_config(5, 5)), c10::Error);  // 32 is not a multiple of 5
  EXPECT_THROW(LlamaForCausalLM(small_config(32, 32)), c10::Error);  // head_dim 1 is odd
}

TEST(Llama, RMSNormIsTheFormulaInFloat32) {
  RMSNorm norm(6, 1e-5, at::TensorOptions(at::kFloat));
  torch::NoGradGuard no_grad;
  norm->weight.copy_(at::arange(1, 7, at::kFloat) / 4);
  const at::Tensor x = at::randn({3, 6}, at::make_generator<at::CPUGeneratorImpl>(3)) * 5;
  const at::Tensor y = norm(x);
  for (int64_t r = 0; r < 3; ++r) {
    double mean_square = 0;
    for (int64_t i = 0; i < 6; ++i) mean_square += std::pow(x[r][i].item<double>(), 2) / 6;
    for (int64_t i = 0; i < 6; ++i) {
      const double expected = x[r][i].item<double>() / std::sqrt(mean_square + 1e-5) * (i + 1) / 4.0;
      EXPECT_NEAR(y[r][i].item<double>(), expected, 1e-5 * std::abs(expected) + 1e-6) << r << "," << i;
    }
  }
  // bfloat16 in: normalised in float32, rounded to bfloat16 once, then scaled (HF's order).
  norm->to(at::kBFloat16);
  const at::Tensor xb = x.to(at::kBFloat16);
  const at::Tensor expected_b = norm->weight * (xb.to(at::kFloat) * at::rsqrt(xb.to(at::kFloat).pow(2).mean(-1, true) + 1e-5)).to(at::kBFloat16);
  const at::Tensor yb = norm(xb);
  EXPECT_EQ(yb.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(yb.equal(expected_b));
}

TEST(Llama, RotaryIsRotateHalfWithTheta10000) {
  const int64_t d = 8, positions = 6;
  const auto tables = rotary_tables(positions, d, 10000.0);
  ASSERT_EQ(tables.first.sizes(), (std::vector<int64_t>{positions, d}));
  const at::Tensor x = at::randn({1, 1, positions, d}, at::make_generator<at::CPUGeneratorImpl>(4));
  const at::Tensor y = apply_rotary(x, tables.first, tables.second);
  for (int64_t p = 0; p < positions; ++p) {
    for (int64_t i = 0; i < d / 2; ++i) {
      // HF: dimension i pairs with i + d/2 (not Meta's 2i, 2i+1), rotated by p * theta^(-2i/d).
      const double angle = double(p) * std::pow(10000.0, -2.0 * double(i) / double(d));
      const double a = x[0][0][p][i].item<double>(), b = x[0][0][p][i + d / 2].item<double>();
      EXPECT_NEAR(y[0][0][p][i].item<double>(), a * std::cos(angle) - b * std::sin(angle), 1e-5) << p << "," << i;
      EXPECT_NEAR(y[0][0][p][i + d / 2].item<double>(), b * std::cos(angle) + a * std::sin(angle), 1e-5)
          << p << "," << i;
    }
  }
  EXPECT_TRUE(y.select(2, 0).equal(x.select(2, 0))) << "position 0 is not rotated";
}

TEST(Llama, ForwardShapesAndLastOnly) {
  const LlamaConfig c = small_config(4, 2);
  LlamaForCausalLM model = random_model(c, 1);
  c10::InferenceMode inference;
  const at::Tensor ids = random_ids(c, 2, 7, 5);
  const at::Tensor logits = model->forward(ids);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7, c.vocab_size}));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  EXPECT_GT(logits.std().item<double>(), 0);
  const at::Tensor last = model->forward(ids, nullptr, /*last_only=*/true);
  EXPECT_EQ(last.sizes(), (std::vector<int64_t>{2, 1, c.vocab_size}));
  expect_close(last, logits.narrow(1, 6, 1), 1e-5, "last_only");
  EXPECT_THROW(model->forward(random_ids(c, 1, c.max_position_embeddings + 1, 6)), c10::Error);
}

TEST(Llama, IsCausal) {
  const LlamaConfig c = small_config(4, 2);
  LlamaForCausalLM model = random_model(c, 1);
  c10::InferenceMode inference;
  at::Tensor ids = random_ids(c, 1, 6, 7);
  const at::Tensor before = model->forward(ids);
  ids[0][5] = (ids[0][5].item<int64_t>() + 1) % c.vocab_size;
  const at::Tensor after = model->forward(ids);
  expect_close(after.narrow(1, 0, 5), before.narrow(1, 0, 5), 1e-6, "earlier positions");
  EXPECT_FALSE(after.narrow(1, 5, 1).equal(before.narrow(1, 5, 1)));
}

// The key KV-cache test: decoding a sequence one token at a time through the cache gives the
// logits of one forward over the whole sequence, with grouped-query and with plain attention,
// and so does a prompt chunk followed by further chunks (the masked path).
TEST(Llama, CachedDecodingEqualsFullForward) {
  for (bool fuse : {false, true})
  for (int64_t kv : {4, 2, 1}) {
    SCOPED_TRACE(fuse ? "fused projections" : "separate projections");
    const LlamaConfig c = small_config(4, kv);
    LlamaForCausalLM model = random_model(c, 2);
    if (fuse) model->fuse_projections();
    ASSERT_EQ(model->model->typed_layers[1]->self_attn->fused(), fuse);
    c10::InferenceMode inference;
    const at::Tensor ids = random_ids(c, 2, 12, 8);
    const at::Tensor full = model->forward(ids);

    KVCache cache = model->make_cache(2, 12);
    EXPECT_EQ(cache.bytes(), 2 * c.num_hidden_layers * 2 * kv * c.head_dim() * 16 * 4);  // 12 rounded up to 16
    std::vector<at::Tensor> steps;
    for (int64_t t = 0; t < 12; ++t) steps.push_back(model->forward(ids.narrow(1, t, 1), &cache));
    EXPECT_EQ(cache.length(), 12);
    expect_close(at::cat(steps, 1), full, 2e-5, "token by token, kv heads " + std::to_string(kv));

    cache.reset();
    const at::Tensor prompt = model->forward(ids.narrow(1, 0, 5), &cache);
    const at::Tensor chunk = model->forward(ids.narrow(1, 5, 4), &cache);  // 4 new over 5 cached
    const at::Tensor rest = model->forward(ids.narrow(1, 9, 3), &cache, /*last_only=*/true);
    expect_close(at::cat({prompt, chunk}, 1), full.narrow(1, 0, 9), 2e-5, "chunks, kv " + std::to_string(kv));
    expect_close(rest, full.narrow(1, 11, 1), 2e-5, "last chunk, kv " + std::to_string(kv));
    EXPECT_THROW(model->forward(ids.narrow(1, 0, 1), &cache), c10::Error) << "the cache is full";
  }
}

// Static decoding (the step a CUDA graph replays) at the cache's device position gives the
// logits and tokens of the host-position path, token by token after a prompt, for a batch, with
// grouped-query and plain attention, fused or not.
TEST(Llama, DecodeStepAtTheDevicePositionEqualsCachedForward) {
  for (bool fuse : {false, true})
  for (int64_t kv : {4, 2, 1}) {
    SCOPED_TRACE(std::string(fuse ? "fused" : "separate") + " projections, kv heads " + std::to_string(kv));
    const LlamaConfig c = small_config(4, kv);
    LlamaForCausalLM model = random_model(c, 2);
    if (fuse) model->fuse_projections();
    c10::InferenceMode inference;
    const at::Tensor ids = random_ids(c, 3, 12, 8);
    KVCache host = model->make_cache(3, 12), device = model->make_cache(3, 12);
    model->forward(ids.narrow(1, 0, 5), &host, /*last_only=*/true);
    model->forward(ids.narrow(1, 0, 5), &device, /*last_only=*/true);
    device.set_position(5);
    for (int64_t t = 5; t < 12; ++t) {
      const at::Tensor token = ids.narrow(1, t, 1);
      const at::Tensor expected = model->forward(token, &host, /*last_only=*/true);
      const at::Tensor got = model->decode_step(token, device);
      expect_close(got, expected, 2e-5, "position " + std::to_string(t));
      EXPECT_TRUE(got.argmax(-1).equal(expected.argmax(-1))) << "position " << t;
    }
    EXPECT_EQ(device.position().item<int64_t>(), 12);
    EXPECT_EQ(device.length(), 5) << "decode steps leave the host position alone";
  }
}

// From the very first position (llama-bench's tg: a start token into an empty cache), in bfloat16.
TEST(Llama, DecodeStepFromPositionZeroInBFloat16) {
  const LlamaConfig c = small_config(4, 2);
  LlamaForCausalLM model = random_model(c, 3);
  model->to(at::kBFloat16);
  model->fuse_projections();
  c10::InferenceMode inference;
  const at::Tensor ids = random_ids(c, 2, 6, 9);
  KVCache host = model->make_cache(2, 6), device = model->make_cache(2, 6);
  device.set_position(0);
  for (int64_t t = 0; t < 6; ++t) {
    const at::Tensor token = ids.narrow(1, t, 1);
    const at::Tensor expected = model->forward(token, &host, /*last_only=*/true);
    const at::Tensor got = model->decode_step(token, device);
    EXPECT_EQ(got.scalar_type(), at::kBFloat16);
    expect_close(got, expected, 0.02, "bf16 position " + std::to_string(t));
  }
  EXPECT_THROW(model->decode_step(ids, device), c10::Error);  // one token per sequence
}

// Grouped-query attention is multi-head attention with each kv head's projection repeated for
// the query heads of its group (HF's repeat_kv: query head h reads kv head h / group), through
// the cache too.
TEST(Llama, GroupedQueryEqualsRepeatedKeyValueHeads) {
  const LlamaConfig grouped_config = small_config(4, 2);
  const LlamaConfig full_config = small_config(4, 4);
  LlamaForCausalLM grouped = random_model(grouped_config, 3);
  LlamaForCausalLM full(full_config);
  {
    torch::NoGradGuard no_grad;
    auto source = grouped->named_parameters();
    const int64_t d = grouped_config.head_dim(), group = 2;
    for (auto& item : full->named_parameters()) {
      const at::Tensor& from = source[item.key()];
      const bool kv = item.key().find("k_proj") != std::string::npos || item.key().find("v_proj") != std::string::npos;
      if (!kv) {
        item.value().copy_(from);
        continue;
      }
      // (kv * d, hidden) -> (kv, 1, d, hidden) -> (kv, group, d, hidden) -> (heads * d, hidden)
      const at::Tensor blocks = from.view({2, 1, d, 32}).expand({2, group, d, 32});
      item.value().copy_(blocks.reshape({4 * d, 32}));
    }
  }
  full->eval();
  c10::InferenceMode inference;
  const at::Tensor ids = random_ids(grouped_config, 2, 9, 10);
  expect_close(grouped->forward(ids), full->forward(ids), 2e-5, "full forward");
  KVCache a = grouped->make_cache(2, 9), b = full->make_cache(2, 9);
  grouped->forward(ids.narrow(1, 0, 4), &a);
  full->forward(ids.narrow(1, 0, 4), &b);
  for (int64_t t = 4; t < 9; ++t)
    expect_close(grouped->forward(ids.narrow(1, t, 1), &a), full->forward(ids.narrow(1, t, 1), &b), 2e-5,
                 "decode step " + std::to_string(t));
}

TEST(Llama, GroupedDecodeFoldEqualsRepeatedHeads) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const at::Tensor q = at::randn({2, 6, 1, 4}, gen), k = at::randn({2, 3, 5, 4}, gen), v = at::randn({2, 3, 5, 4}, gen);
  const at::Tensor expected =
      compat::sdpa(q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), /*is_causal=*/false, 0.0);
  expect_close(grouped_cached_attention(q, k, v, /*past=*/4), expected, 1e-6, "one new token");
  // Over a whole cache layer with a decode mask: positions 5.. are hidden, whatever they hold.
  const at::Tensor padded_k = at::cat({k, at::randn({2, 3, 11, 4}, gen)}, 2);
  const at::Tensor padded_v = at::cat({v, at::randn({2, 3, 11, 4}, gen)}, 2);
  KVCache cache(1, 2, 3, 16, 4, at::TensorOptions(at::kFloat));
  cache.set_position(4);
  expect_close(grouped_decode_attention(q, padded_k, padded_v, cache.decode_mask(at::kFloat)), expected, 1e-6,
               "masked over the whole cache");
}

TEST(Llama, FusedProjectionsKeepNamesValuesAndOutputs) {
  const LlamaConfig c = small_config(4, 2);
  LlamaForCausalLM model = random_model(c, 4);
  std::vector<std::pair<std::string, at::Tensor>> before;
  for (const auto& item : model->named_parameters()) before.emplace_back(item.key(), item.value().clone());
  const at::Tensor ids = random_ids(c, 2, 6, 9);
  at::Tensor separate;
  {
    c10::InferenceMode inference;
    separate = model->forward(ids);
  }
  model->fuse_projections();
  const auto after = model->named_parameters();
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [name, value] : before) {
    EXPECT_TRUE(after[name].equal(value)) << name;
    EXPECT_TRUE(after[name].requires_grad()) << name;
  }
  for (const auto& layer : model->model->typed_layers) {
    EXPECT_TRUE(layer->self_attn->fused());
    EXPECT_TRUE(layer->mlp->fused());
    EXPECT_TRUE(layer->self_attn->k_proj->weight.is_alias_of(layer->self_attn->v_proj->weight));
  }
  {
    c10::InferenceMode inference;
    expect_close(model->forward(ids), separate, 1e-5, "fused");
  }
  {
    torch::NoGradGuard no_grad;  // a weight written in place (as loading does) is seen by the fused product
    after["model.layers.0.self_attn.v_proj.weight"].mul_(2);
    after["model.layers.1.mlp.up_proj.weight"].mul_(-1);
  }
  at::Tensor fused_changed;
  {
    c10::InferenceMode inference;
    fused_changed = model->forward(ids);
  }
  // Moving or casting gives the parameters their own storage again: the separate path is used.
  model->to(at::kDouble);
  EXPECT_FALSE(model->model->typed_layers[0]->self_attn->fused());
  EXPECT_FALSE(model->model->typed_layers[0]->mlp->fused());
  c10::InferenceMode inference;
  expect_close(model->forward(ids.clone()), fused_changed, 1e-5, "after the cast");
  EXPECT_FALSE(fused_changed.allclose(separate, 1e-3, 1e-3));
  model->fuse_projections();
  EXPECT_TRUE(model->model->typed_layers[0]->self_attn->fused());
  expect_close(model->forward(ids), fused_changed, 1e-5, "fused again in float64");
}

TEST(Llama, SameGeneratorSeedSameWeights) {
  const LlamaConfig c = small_config(4, 2);
  LlamaForCausalLM a = random_model(c, 5), b = random_model(c, 5), other = random_model(c, 6);
  EXPECT_TRUE(a->lm_head->weight.equal(b->lm_head->weight));
  EXPECT_FALSE(a->lm_head->weight.equal(other->lm_head->weight));
  EXPECT_TRUE(a->model->norm->weight.equal(at::ones({c.hidden_size})));
  const double spread = a->model->embed_tokens->weight.std().item<double>();
  EXPECT_NEAR(spread, 0.02, 0.002);  // HF's initializer_range
}

TEST(Llama, RunsInBFloat16AfterAMove) {
  const LlamaConfig c = small_config(4, 2);
  LlamaForCausalLM model = random_model(c, 1);
  c10::InferenceMode inference;
  const at::Tensor ids = random_ids(c, 1, 5, 2);
  const at::Tensor fp32 = model->forward(ids);
  model->to(at::kBFloat16);  // the rotary tables follow on the next forward
  const at::Tensor bf16 = model->forward(ids);
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
  expect_close(bf16, fp32, 0.05, "bf16 against fp32");
}

TEST(Llama, FlopsPerTokenOfLlama2_7B) {
  const LlamaConfig c;
  const double body = 2.0 * 6'476'271'616;  // 2 * (6,738,415,616 - 2 * 32000 * 4096)
  // pp512: lm_head once per sequence (262,144,000 / 512), mean context (512 + 1) / 2.
  EXPECT_DOUBLE_EQ(inference_flops_per_token(c, 512, 0), body + 512'000.0 + 4.0 * 32 * 4096 * 256.5);
  EXPECT_DOUBLE_EQ(inference_flops_per_token(c, 512, 0), 13'087'535'104.0);
  // tg128: lm_head for every token, mean context (128 + 1) / 2.
  EXPECT_DOUBLE_EQ(inference_flops_per_token(c, 0, 128), body + 262'144'000.0 + 4.0 * 32 * 4096 * 64.5);
  EXPECT_DOUBLE_EQ(inference_flops_per_token(c, 0, 128), 13'248'503'808.0);
  EXPECT_THROW(inference_flops_per_token(c, 4, 4), c10::Error);
  EXPECT_THROW(inference_flops_per_token(c, 0, 0), c10::Error);
}

}  // namespace
}  // namespace mlspeed::llama
