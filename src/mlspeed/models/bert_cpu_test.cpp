#include "mlspeed/models/bert.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace mlspeed::bert {
namespace {

BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 100;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 24;
  return c;
}

std::set<std::string> names_of(const torch::nn::Module& m) {
  std::set<std::string> names;
  for (const auto& item : m.named_parameters()) names.insert(item.key());
  return names;
}

TEST(Bert, BaseUncasedHasHuggingFacesParameterCount) {
  BertModel model(BertConfig{});
  EXPECT_EQ(num_params(*model), 109'482'240);
  EXPECT_EQ(count_params(BertConfig{}), 109'482'240);
}

TEST(Bert, CountFromConfigEqualsBuiltModel) {
  BertConfig c = tiny_config();
  for (int64_t layers : {1, 3}) {
    c.num_hidden_layers = layers;
    BertModel model(c);
    EXPECT_EQ(count_params(c), num_params(*model)) << layers << " layers";
  }
}

TEST(Bert, ParameterNamesAreHuggingFaces) {
  BertModel model(tiny_config());
  std::set<std::string> expected = {"embeddings.word_embeddings.weight",
                                    "embeddings.position_embeddings.weight",
                                    "embeddings.token_type_embeddings.weight",
                                    "embeddings.LayerNorm.weight",
                                    "embeddings.LayerNorm.bias",
                                    "pooler.dense.weight",
                                    "pooler.dense.bias"};
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "encoder.layer." + std::to_string(layer) + ".";
    for (const char* name :
         {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
          "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"}) {
      expected.insert(p + name + ".weight");
      expected.insert(p + name + ".bias");
    }
  }
  EXPECT_EQ(names_of(*model), expected);
}

TEST(Bert, InitialisesAsHuggingFace) {
  torch::manual_seed(0);
  BertConfig c = tiny_config();
  c.hidden_size = 128;
  BertModel model(c);
  const auto& self = model->encoder->layer[0]->as<BertLayerImpl>()->attention->self;
  EXPECT_NEAR(self->query->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(self->query->bias.abs().max().item<float>(), 0.0f);
  EXPECT_NEAR(model->embeddings->word_embeddings->weight.narrow(0, 1, 99).std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(model->embeddings->word_embeddings->weight[0].abs().max().item<float>(), 0.0f);  // padding row
  EXPECT_TRUE(model->embeddings->LayerNorm->weight.eq(1).all().item<bool>());
  EXPECT_TRUE(model->embeddings->LayerNorm->bias.eq(0).all().item<bool>());
}

TEST(Bert, OutputShapes) {
  BertModel model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const BertModelOutput out = model->forward(at::randint(100, {3, 20}, at::kLong));
  EXPECT_EQ(out.sequence_output.sizes(), (std::vector<int64_t>{3, 20, 16}));
  EXPECT_EQ(out.pooled_output.sizes(), (std::vector<int64_t>{3, 16}));
  EXPECT_TRUE(at::isfinite(out.sequence_output).all().item<bool>());
  EXPECT_LE(out.pooled_output.abs().max().item<float>(), 1.0f);             // tanh
  EXPECT_THROW(model->forward(at::zeros({1, 25}, at::kLong)), c10::Error);  // past max_position
}

TEST(Bert, SameSeedSameOutputs) {
  const at::Tensor ids = at::randint(100, {2, 12}, at::kLong);
  std::vector<at::Tensor> outputs;
  for (int run = 0; run < 3; ++run) {
    torch::manual_seed(run < 2 ? 42 : 43);
    BertModel model(tiny_config());
    model->eval();
    c10::InferenceMode inference;
    outputs.push_back(model->forward(ids).sequence_output);
  }
  EXPECT_TRUE(outputs[0].equal(outputs[1]));
  EXPECT_FALSE(outputs[0].equal(outputs[2]));
}

TEST(Bert, TokenTypesDefaultToSegmentZero) {
  BertModel model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor ids = at::randint(100, {2, 12}, at::kLong);
  const at::Tensor zeros = at::zeros({2, 12}, at::kLong);
  const at::Tensor ones = at::ones({2, 12}, at::kLong);
  const at::Tensor by_default = model->forward(ids).sequence_output;
  EXPECT_LT((by_default - model->forward(ids, zeros).sequence_output).abs().max().item<float>(), 1e-6f);
  EXPECT_GT((by_default - model->forward(ids, ones).sequence_output).abs().max().item<float>(), 1e-3f);
}

TEST(Bert, PaddingMaskHidesPaddedTokens) {
  BertModel model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor ids = at::randint(1, 100, {1, 8}, at::kLong);
  const at::Tensor padded = at::cat({ids, at::zeros({1, 4}, at::kLong)}, 1);
  at::Tensor keep = at::ones({1, 12}, at::kLong);
  keep.narrow(1, 8, 4).zero_();
  const at::Tensor alone = model->forward(ids).sequence_output;
  const at::Tensor masked =
      model->forward(padded, {}, extended_attention_mask(keep, at::kFloat)).sequence_output.narrow(1, 0, 8);
  const at::Tensor unmasked = model->forward(padded).sequence_output.narrow(1, 0, 8);
  EXPECT_LT((alone - masked).abs().max().item<float>(), 1e-5f);
  EXPECT_GT((alone - unmasked).abs().max().item<float>(), 1e-3f);
}

TEST(Bert, BFloat16InferenceRunsCloseToFloat32) {
  BertModel model(tiny_config());
  model->eval();
  const at::Tensor ids = at::randint(100, {2, 16}, at::kLong);
  at::Tensor reference, low;
  {
    c10::InferenceMode inference;
    reference = model->forward(ids).sequence_output;
  }
  model->to(at::kBFloat16);
  {
    c10::InferenceMode inference;
    low = model->forward(ids).sequence_output;
  }
  EXPECT_EQ(low.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::isfinite(low).all().item<bool>());
  // LayerNorm outputs are O(1); bf16 keeps about 3 significant digits through two layers.
  EXPECT_LT((low.to(at::kFloat) - reference).abs().max().item<float>(), 0.1f);
}

// One layer written out with plain ops, as HF's BertLayer reads: post-norm residuals, softmax
// attention without a mask, exact (erf) GELU.
TEST(Bert, LayerMatchesHuggingFaceWrittenOut) {
  BertConfig c = tiny_config();
  BertLayer layer(c);
  layer->eval();
  torch::NoGradGuard no_grad;
  for (auto& p : layer->parameters()) p.normal_(0.0, 0.3);
  const at::Tensor x = at::randn({2, 5, 16});
  const auto ln = [](const torch::nn::LayerNorm& m, const at::Tensor& t) {
    const at::Tensor mean = t.mean(-1, true), var = t.var(-1, /*unbiased=*/false, true);
    return (t - mean) / at::sqrt(var + 1e-12) * m->weight + m->bias;
  };
  const auto lin = [](const mlspeed::nn::Linear& m, const at::Tensor& t) {
    return t.matmul(m->weight.t()) + m->bias;
  };
  const auto heads = [](const at::Tensor& t) { return t.reshape({2, 5, 2, 8}).permute({0, 2, 1, 3}); };
  const auto& self = layer->attention->self;
  const at::Tensor q = heads(lin(self->query, x)), k = heads(lin(self->key, x)),
                   v = heads(lin(self->value, x));
  const at::Tensor probs = at::softmax(q.matmul(k.transpose(-2, -1)) / std::sqrt(8.0), -1);
  const at::Tensor context = probs.matmul(v).permute({0, 2, 1, 3}).reshape({2, 5, 16});
  const at::Tensor attended =
      ln(layer->attention->output->LayerNorm, lin(layer->attention->output->dense, context) + x);
  const at::Tensor h = lin(layer->intermediate->dense, attended);
  const at::Tensor gelu = 0.5 * h * (1 + at::erf(h / std::sqrt(2.0)));
  const at::Tensor expected = ln(layer->output->LayerNorm, lin(layer->output->dense, gelu) + attended);
  EXPECT_LT((layer->forward(x, {}) - expected).abs().max().item<double>(), 1e-4);
}

TEST(Bert, PoolerIsTanhOfTheFirstToken) {
  BertModel model(tiny_config());
  model->eval();
  torch::NoGradGuard no_grad;
  const BertModelOutput out = model->forward(at::randint(100, {2, 6}, at::kLong));
  const auto& dense = model->pooler->dense;
  const at::Tensor expected =
      at::tanh(out.sequence_output.select(1, 0).matmul(dense->weight.t()) + dense->bias);
  EXPECT_LT((out.pooled_output - expected).abs().max().item<double>(), 1e-6);
}

TEST(Bert, InferenceFlopsFormula) {
  const BertConfig c;  // h 768, I 3072, L 12
  const double T = 128, h = 768, I = 3072, L = 12;
  EXPECT_DOUBLE_EQ(inference_flops_per_sequence(c, 128),
                   T * L * (2 * (4 * h * h + 2 * h * I) + 4 * T * h) + 2 * h * h);
}

}  // namespace
}  // namespace mlspeed::bert
