#include "mlspeed/models/small_transformer.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mlspeed/io/weights.h"
#include "testing/test_support.h"

namespace mlspeed::small_transformer {
namespace {

SmallTransformerConfig tiny_config() {
  SmallTransformerConfig c;
  c.vocab_size = 50;
  c.maxlen = 12;
  c.embed_dim = 8;
  c.key_dim = 8;
  c.ff_dim = 8;
  c.dense_dim = 4;
  return c;
}

TEST(SmallTransformer, KerasExampleHas657758Parameters) {
  // token 20000*32 + position 200*32 + attention 3*(32*64 + 64) + (64*32 + 32) + ffn 2*(32*32 + 32)
  // + 2 LayerNorms 2*64 + Dense(20) 32*20 + 20 + Dense(2) 20*2 + 2
  // = 640,000 + 6,400 + 8,416 + 2,112 + 128 + 660 + 42
  EXPECT_EQ(count_params(SmallTransformerConfig{}), 657'758);
  SmallTransformer model(SmallTransformerConfig{});
  EXPECT_EQ(num_params(*model), 657'758);
}

TEST(SmallTransformer, CountFromConfigEqualsBuiltModel) {
  SmallTransformerConfig c = tiny_config();
  for (int64_t heads : {1, 3}) {
    c.num_heads = heads;
    c.key_dim = 5;  // independent of embed_dim, as Keras allows
    SmallTransformer model(c);
    EXPECT_EQ(count_params(c), num_params(*model)) << heads << " heads";
  }
}

TEST(SmallTransformer, ParameterNamesAndShapesFollowTheKerasLayers) {
  SmallTransformer model(SmallTransformerConfig{});
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : model->named_parameters()) shapes[item.key()] = item.value().sizes().vec();
  const std::map<std::string, std::vector<int64_t>> expected = {
      {"embedding.token_emb.weight", {20000, 32}},
      {"embedding.pos_emb.weight", {200, 32}},
      {"transformer_block.att.query.weight", {64, 32}},
      {"transformer_block.att.query.bias", {64}},
      {"transformer_block.att.key.weight", {64, 32}},
      {"transformer_block.att.key.bias", {64}},
      {"transformer_block.att.value.weight", {64, 32}},
      {"transformer_block.att.value.bias", {64}},
      {"transformer_block.att.attention_output.weight", {32, 64}},
      {"transformer_block.att.attention_output.bias", {32}},
      {"transformer_block.ffn.dense1.weight", {32, 32}},
      {"transformer_block.ffn.dense1.bias", {32}},
      {"transformer_block.ffn.dense2.weight", {32, 32}},
      {"transformer_block.ffn.dense2.bias", {32}},
      {"transformer_block.layernorm1.weight", {32}},
      {"transformer_block.layernorm1.bias", {32}},
      {"transformer_block.layernorm2.weight", {32}},
      {"transformer_block.layernorm2.bias", {32}},
      {"dense.weight", {20, 32}},
      {"dense.bias", {20}},
      {"classifier.weight", {2, 20}},
      {"classifier.bias", {2}},
  };
  EXPECT_EQ(shapes, expected);
  EXPECT_TRUE(model->named_buffers().is_empty());
  EXPECT_DOUBLE_EQ(model->transformer_block->layernorm1->options.eps(), 1e-6);
}

TEST(SmallTransformer, InitialisesAsKeras) {
  torch::manual_seed(0);
  SmallTransformer model(SmallTransformerConfig{});
  const auto max_abs = [](const at::Tensor& t) { return t.abs().max().item<double>(); };
  const auto& token = model->embedding->token_emb->weight;
  EXPECT_LE(max_abs(token), 0.05);
  EXPECT_NEAR(token.std().item<double>(), 0.1 / std::sqrt(12.0), 1e-3);  // uniform(-0.05, 0.05)
  auto& att = model->transformer_block->att;
  EXPECT_LE(max_abs(att->query->weight), std::sqrt(6.0 / (64 + 1024)));  // kernel (32, 2, 32)
  EXPECT_GT(max_abs(att->query->weight), 0.9 * std::sqrt(6.0 / (64 + 1024)));
  EXPECT_LE(max_abs(att->attention_output->weight), std::sqrt(6.0 / (64 + 64)));  // kernel (2, 32, 32)
  EXPECT_GT(max_abs(att->attention_output->weight), 0.9 * std::sqrt(6.0 / (64 + 64)));
  EXPECT_LE(max_abs(model->dense->weight), std::sqrt(6.0 / (32 + 20)));
  EXPECT_EQ(max_abs(model->dense->bias), 0.0);
  EXPECT_TRUE(model->transformer_block->layernorm2->weight.eq(1).all().item<bool>());
}

TEST(SmallTransformer, LogitsShapeAndLimits) {
  SmallTransformer model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor logits = model->forward(at::randint(50, {3, 12}, at::kLong));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  EXPECT_EQ(model->forward(at::randint(50, {1, 5}, at::kLong)).sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_THROW(model->forward(at::zeros({1, 13}, at::kLong)), c10::Error);  // past maxlen
}

TEST(SmallTransformer, SameSeedSameLogits) {
  const at::Tensor ids = at::randint(50, {2, 12}, at::kLong);
  std::vector<at::Tensor> outputs;
  for (int run = 0; run < 3; ++run) {
    torch::manual_seed(run < 2 ? 42 : 43);
    SmallTransformer model(tiny_config());
    model->eval();
    c10::InferenceMode inference;
    outputs.push_back(model->forward(ids));
  }
  EXPECT_TRUE(outputs[0].equal(outputs[1]));
  EXPECT_FALSE(outputs[0].equal(outputs[2]));
}

TEST(SmallTransformer, AttentionMatchesKerasMultiHeadAttentionWrittenOut) {
  torch::manual_seed(3);
  SmallTransformerConfig c = tiny_config();
  c.num_heads = 2;
  c.key_dim = 5;
  SmallTransformer model(c);
  auto& att = model->transformer_block->att;
  const at::Tensor x = at::randn({2, 7, c.embed_dim});
  c10::InferenceMode inference;
  // Keras: per head h, softmax((x Wq_h + bq_h)(x Wk_h + bk_h)^T / sqrt(key_dim)) (x Wv_h + bv_h),
  // the heads concatenated and projected back to embed_dim.
  std::vector<at::Tensor> heads;
  for (int64_t h = 0; h < 2; ++h) {
    const auto slice = [&](const mlspeed::nn::Linear& l, const at::Tensor& in) {
      return at::linear(in, l->weight.narrow(0, h * 5, 5), l->bias.narrow(0, h * 5, 5));
    };
    const at::Tensor q = slice(att->query, x), k = slice(att->key, x), v = slice(att->value, x);
    heads.push_back(at::softmax(at::matmul(q, k.transpose(1, 2)) / std::sqrt(5.0), -1).matmul(v));
  }
  const at::Tensor expected = att->attention_output(at::cat(heads, -1));
  EXPECT_LT((att->forward(x) - expected).abs().max().item<float>(), 1e-5f);
}

TEST(SmallTransformer, WeightsRoundTrip) {
  testing::TempDir dir;
  const std::string file = dir.file("small.safetensors");
  const at::Tensor ids = at::randint(50, {2, 12}, at::kLong);
  torch::manual_seed(1);
  SmallTransformer saved(tiny_config());
  saved->eval();
  save_weights(*saved, file);
  torch::manual_seed(2);
  SmallTransformer loaded(tiny_config());
  loaded->eval();
  c10::InferenceMode inference;
  EXPECT_FALSE(saved->forward(ids).equal(loaded->forward(ids)));
  load_weights(*loaded, file);
  EXPECT_TRUE(saved->forward(ids).equal(loaded->forward(ids)));
}

TEST(SmallTransformer, TrainingFlopsOfTheKerasExample) {
  // 6 * (200 * (4 * 32 * 64 + 2 * 32 * 32 + 2 * 200 * 64) + 32 * 20 + 20 * 2)
  // = 6 * (200 * 35,840 + 680) = 6 * 7,168,680
  EXPECT_DOUBLE_EQ(training_flops_per_sequence(SmallTransformerConfig{}, 200), 43'012'080.0);
}

}  // namespace
}  // namespace mlspeed::small_transformer
