#include "mlspeed/models/distilbert.h"

#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <set>
#include <string>
#include <vector>

#include "mlspeed/io/weights.h"
#include "mlspeed/models/bert.h"
#include "testing/test_support.h"

namespace mlspeed::distilbert {
namespace {

DistilBertConfig tiny_config() {
  DistilBertConfig c;
  c.vocab_size = 100;
  c.dim = 16;
  c.n_layers = 2;
  c.n_heads = 2;
  c.hidden_dim = 32;
  c.max_position_embeddings = 24;
  return c;
}

std::set<std::string> names_of(const torch::nn::Module& m) {
  std::set<std::string> names;
  for (const auto& item : m.named_parameters()) names.insert(item.key());
  return names;
}

TEST(DistilBert, BaseUncasedHasHuggingFacesParameterCount) {
  EXPECT_EQ(count_params(DistilBertConfig{}), 66'955'010);
  EXPECT_EQ(count_trainable_params(DistilBertConfig{}), 7'087'872 + 590'592 + 1'538);
  DistilBertForSequenceClassification model(DistilBertConfig{});
  EXPECT_EQ(num_params(*model), 66'955'010);
}

TEST(DistilBert, CountFromConfigEqualsBuiltModel) {
  DistilBertConfig c = tiny_config();
  for (int64_t layers : {1, 3}) {
    for (int64_t labels : {2, 5}) {
      c.n_layers = layers;
      c.num_labels = labels;
      DistilBertForSequenceClassification model(c);
      EXPECT_EQ(count_params(c), num_params(*model)) << layers << " layers, " << labels << " labels";
      int64_t trainable = 0;
      for (const auto& p : freeze_all_but_last_block(*model)) trainable += p.numel();
      EXPECT_EQ(count_trainable_params(c), trainable);
    }
  }
}

TEST(DistilBert, ParameterNamesAreHuggingFaces) {
  DistilBertForSequenceClassification model(tiny_config());
  std::set<std::string> expected = {"distilbert.embeddings.word_embeddings.weight",
                                    "distilbert.embeddings.position_embeddings.weight",
                                    "distilbert.embeddings.LayerNorm.weight",
                                    "distilbert.embeddings.LayerNorm.bias",
                                    "pre_classifier.weight",
                                    "pre_classifier.bias",
                                    "classifier.weight",
                                    "classifier.bias"};
  for (int layer = 0; layer < 2; ++layer) {
    const std::string p = "distilbert.transformer.layer." + std::to_string(layer) + ".";
    for (const char* name : {"attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin",
                             "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"}) {
      expected.insert(p + name + ".weight");
      expected.insert(p + name + ".bias");
    }
  }
  EXPECT_EQ(names_of(*model), expected);
  EXPECT_TRUE(model->named_buffers().is_empty());
  EXPECT_EQ(model->distilbert->transformer->layer[0]->as<TransformerBlockImpl>()->ffn->lin1->weight.sizes(),
            (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(model->classifier->weight.sizes(), (std::vector<int64_t>{2, 16}));
}

TEST(DistilBert, InitialisesAsHuggingFace) {
  torch::manual_seed(0);
  DistilBertConfig c = tiny_config();
  c.dim = 128;
  DistilBertForSequenceClassification model(c);
  const auto& attention = model->distilbert->transformer->blocks[0]->attention;
  EXPECT_NEAR(attention->q_lin->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(attention->q_lin->bias.abs().max().item<float>(), 0.0f);
  const auto& words = model->distilbert->embeddings->word_embeddings->weight;
  EXPECT_NEAR(words.narrow(0, 1, 99).std().item<double>(), 0.02, 0.001);
  EXPECT_EQ(words[0].abs().max().item<float>(), 0.0f);  // [PAD]'s row
  EXPECT_TRUE(model->distilbert->embeddings->LayerNorm->weight.eq(1).all().item<bool>());
  EXPECT_NEAR(model->classifier->weight.std().item<double>(), 0.02, 0.005);
}

TEST(DistilBert, LogitsShapeAndLimits) {
  DistilBertForSequenceClassification model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor logits = model->forward(at::randint(100, {3, 20}, at::kLong));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
  EXPECT_THROW(model->forward(at::zeros({1, 25}, at::kLong)), c10::Error);  // past max positions
}

TEST(DistilBert, SameSeedSameLogits) {
  const at::Tensor ids = at::randint(100, {2, 12}, at::kLong);
  std::vector<at::Tensor> outputs;
  for (int run = 0; run < 3; ++run) {
    torch::manual_seed(run < 2 ? 42 : 43);
    DistilBertForSequenceClassification model(tiny_config());
    model->eval();
    c10::InferenceMode inference;
    outputs.push_back(model->forward(ids));
  }
  EXPECT_TRUE(outputs[0].equal(outputs[1]));
  EXPECT_FALSE(outputs[0].equal(outputs[2]));
}

TEST(DistilBert, PaddingMaskHidesPaddedTokens) {
  torch::manual_seed(1);
  DistilBertForSequenceClassification model(tiny_config());
  model->eval();
  c10::InferenceMode inference;
  const at::Tensor ids = at::randint(1, 100, {2, 8}, at::kLong);
  const at::Tensor padded = at::cat({ids, at::zeros({2, 4}, at::kLong)}, 1);
  at::Tensor keep = at::ones({2, 12}, at::kLong);
  keep.narrow(1, 8, 4).zero_();
  // The encoder's hidden states of the real tokens: unchanged by masked padding, changed by
  // padding the attention can see.
  const at::Tensor alone = model->distilbert(ids, at::Tensor());
  const at::Tensor masked = model->distilbert(padded, bert::extended_attention_mask(keep, at::kFloat));
  const at::Tensor unmasked = model->distilbert(padded, at::Tensor());
  EXPECT_LT((alone - masked.narrow(1, 0, 8)).abs().max().item<float>(), 1e-5f);
  EXPECT_GT((alone - unmasked.narrow(1, 0, 8)).abs().max().item<float>(), 1e-3f);
  // The classifier's padding mask (HF's attention_mask, 1 = token) does the same.
  EXPECT_TRUE(at::allclose(model->forward(ids), model->forward(padded, keep), 1e-5, 1e-6));
}

TEST(DistilBert, FreezingLeavesOnlyTheLastBlockAndTheHeadTrainable) {
  DistilBertForSequenceClassification model(tiny_config());
  const std::vector<at::Tensor> trainable = freeze_all_but_last_block(*model);
  std::set<const void*> tails;
  for (const auto& p : trainable) tails.insert(p.unsafeGetTensorImpl());
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const bool tail = name.rfind("distilbert.transformer.layer.1.", 0) == 0 || name.rfind("pre_classifier.", 0) == 0 ||
                      name.rfind("classifier.", 0) == 0;
    EXPECT_EQ(item.value().requires_grad(), tail) << name;
    EXPECT_EQ(tails.count(item.value().unsafeGetTensorImpl()), tail ? 1u : 0u) << name;
  }
  // Backward then reaches the tail only.
  model->forward(at::randint(100, {2, 10}, at::kLong)).sum().backward();
  EXPECT_FALSE(model->distilbert->transformer->blocks[0]->ffn->lin1->weight.grad().defined());
  EXPECT_FALSE(model->distilbert->embeddings->word_embeddings->weight.grad().defined());
  EXPECT_TRUE(model->distilbert->transformer->blocks[1]->attention->q_lin->weight.grad().defined());
  EXPECT_GT(model->classifier->weight.grad().abs().sum().item<float>(), 0.0f);
}

TEST(DistilBert, WeightsRoundTrip) {
  testing::TempDir dir;
  const std::string file = dir.file("distilbert.safetensors");
  const at::Tensor ids = at::randint(100, {2, 10}, at::kLong);
  torch::manual_seed(1);
  DistilBertForSequenceClassification saved(tiny_config());
  saved->eval();
  save_weights(*saved, file);
  torch::manual_seed(2);
  DistilBertForSequenceClassification loaded(tiny_config());
  loaded->eval();
  c10::InferenceMode inference;
  EXPECT_FALSE(saved->forward(ids).equal(loaded->forward(ids)));
  load_weights(*loaded, file);
  EXPECT_TRUE(saved->forward(ids).equal(loaded->forward(ids)));
}

TEST(DistilBert, FineTuningFlopsOfBaseUncasedAt512) {
  // d = 768, H = 3072, L = 6, K = 2, T = 512:
  //   forward  = 512 * 6 * (2 * (4 * 768^2 + 2 * 768 * 3072) + 4 * 512 * 768) + 2 * 768^2 + 2 * 768 * 2
  //            = 48,318,382,080 + 1,179,648 + 3,072 = 48,319,564,800
  //   backward = 512 * (10 * 768^2 + 8 * 768 * 3072 + 8 * 512 * 768) + 4 * 768^2 + 4 * 768 * 2
  //            = 14,294,188,032 + 2,359,296 + 6,144 = 14,296,553,472
  EXPECT_DOUBLE_EQ(finetune_flops_per_sequence(DistilBertConfig{}, 512), 62'616'118'272.0);
  // More than a forward alone (2 N_matmul T), less than training everything (6 N T + attention).
  const double n_matmul = 6.0 * (4 * 768.0 * 768 + 2 * 768.0 * 3072);
  EXPECT_GT(finetune_flops_per_sequence(DistilBertConfig{}, 512), 2 * n_matmul * 512);
  EXPECT_LT(finetune_flops_per_sequence(DistilBertConfig{}, 512), 6 * n_matmul * 512 + 12.0 * 6 * 512 * 512 * 768);
}

}  // namespace
}  // namespace mlspeed::distilbert
