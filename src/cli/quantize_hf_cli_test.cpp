// `mlspeed quantize FOLDER OUT` on a Hugging Face Llama checkpoint, as convert_hf_to_gguf.py and
// llama-quantize take one: a tiny checkpoint written here (config.json, tokenizer.json, the weights
// in one file or in shards) becomes a GGUF file whose F32 model gives the checkpoint's logits bit
// for bit, whose quantised models are the models of their own dequantised weights, whose shards
// make the same file as one file does, and whose vocabulary is the checkpoint's. Bad checkpoints
// are one line naming the file and exit status 2, with nothing written.
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "mlspeed/core/files.h"
#include "mlspeed/io/gguf.h"
#include "mlspeed/models/llama_gguf.h"
#include "mlspeed/quant/quantized_matrix.h"
#include "mlspeed/text/llama_tokenizer.h"
#include "testing/test_support.h"
#include "testing/text.h"
#include "testing/tiny_hf_llama.h"

namespace mlspeed {
namespace {

using llama::LlamaForCausalLM;
using testing::contains;
using testing::run_cli;

llama::LlamaConfig checkpoint_config() {
  llama::LlamaConfig c;
  c.vocab_size = 320;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;  // grouped-query attention: attn_k permuted over 2 heads
  c.max_position_embeddings = 32;
  c.rope_theta = 500000.0;
  c.rms_norm_eps = 1e-6;
  return c;
}

LlamaForCausalLM random_checkpoint_model(uint64_t seed = 21) {
  LlamaForCausalLM model(checkpoint_config());
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(seed));
  return model;
}

at::Tensor logits_of(LlamaForCausalLM& model, const at::Tensor& ids) {
  c10::InferenceMode inference;
  return model->forward(ids).to(at::kFloat);
}

at::Tensor some_ids() {
  return at::randint(320, {2, 9}, at::make_generator<at::CPUGeneratorImpl>(3), at::kLong);
}

// `quantize IN OUT --type TYPE`, which must succeed and say what it wrote.
void quantize_ok(const std::string& in, const std::string& out, const std::string& type) {
  const auto q = run_cli({"quantize", in, out, "--type", type});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_TRUE(contains(q.out, "wrote " + out + ": llama ")) << q.out;
}

LlamaForCausalLM read_gguf(const std::string& path, at::ScalarType dtype = at::kFloat) {
  const gguf::File file(path);
  return llama::load_gguf(file, llama::describe_gguf(file), at::kCPU, dtype);
}

// A dense float32 model holding the decoded values of every stored matrix of `quantised`.
LlamaForCausalLM dequantised_copy(LlamaForCausalLM& quantised) {
  const llama::LlamaConfig& c = quantised->config();
  LlamaForCausalLM dense(c);
  c10::InferenceMode normal(false);
  torch::NoGradGuard no_grad;
  auto params = dense->named_parameters();
  for (const auto& item : quantised->named_parameters()) params[item.key()].copy_(item.value());
  for (const auto& module : quantised->named_modules()) {
    const auto* linear = module.value()->as<llama::Linear>();
    const auto* embedding = module.value()->as<llama::Embedding>();
    if (linear && linear->blocks.defined())
      params[module.key() + ".weight"].copy_(quant::dequantize(linear->matrix(), at::kFloat));
    if (embedding && embedding->blocks.defined())
      params[module.key() + ".weight"].copy_(
          quant::dequantize({embedding->format, c.vocab_size, c.hidden_size, embedding->blocks}, at::kFloat));
  }
  return dense;
}

TEST(QuantizeHfCli, AFloat32FileGivesTheCheckpointsLogitsBitForBit) {
  testing::TempDir dir;
  LlamaForCausalLM model = random_checkpoint_model();
  testing::write_hf_checkpoint(dir.file("Tiny-Llama-hf"), model);
  quantize_ok(dir.file("Tiny-Llama-hf"), dir.file("tiny.gguf"), "f32");
  LlamaForCausalLM read = read_gguf(dir.file("tiny.gguf"));
  const at::Tensor ids = some_ids();
  EXPECT_TRUE(at::equal(logits_of(model, ids), logits_of(read, ids)));

  const gguf::File file(dir.file("tiny.gguf"));
  EXPECT_EQ(file.find_string("general.name").value_or(""), "Tiny-Llama-hf");
  const std::vector<std::string> tokens = file.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 320u);
  EXPECT_EQ(tokens[testing::kTinyHfBase], "<|end|>");
  EXPECT_EQ(file.get_int_array("tokenizer.ggml.token_type")[testing::kTinyHfBase], 3);
  EXPECT_EQ(file.get_float_array("tokenizer.ggml.scores")[300], -1000.0f);
  // The vocabulary passes every check of the tokenizer `generate --model` reads it with.
  std::vector<int32_t> types;
  for (int64_t t : file.get_int_array("tokenizer.ggml.token_type")) types.push_back(static_cast<int32_t>(t));
  const text::LlamaTokenizer tokenizer(tokens, file.get_float_array("tokenizer.ggml.scores"), types, {1, 2, 0, -1});
  EXPECT_EQ(tokenizer.decode(tokenizer.encode("ab <tool>")), "ab <tool>");

  // IN may name the folder's model.safetensors instead: the same file.
  quantize_ok(dir.file("Tiny-Llama-hf/model.safetensors"), dir.file("again.gguf"), "f32");
  EXPECT_EQ(testing::read_file(dir.file("again.gguf")), testing::read_file(dir.file("tiny.gguf")));
}

// Each quantised file is the model of its own dequantised weights, and near the checkpoint's.
TEST(QuantizeHfCli, QuantisedFilesAreTheModelOfTheirDequantisedWeights) {
  testing::TempDir dir;
  LlamaForCausalLM model = random_checkpoint_model();
  testing::write_hf_checkpoint(dir.file("ckpt"), model);
  const at::Tensor ids = some_ids();
  for (const char* type : {"q4_0", "q4_k_m"}) {
    const std::string out = dir.file(std::string(type) + ".gguf");
    quantize_ok(dir.file("ckpt"), out, type);
    LlamaForCausalLM quantised = read_gguf(out);
    EXPECT_TRUE(quantised->lm_head->blocks.defined()) << type;
    LlamaForCausalLM dense = dequantised_copy(quantised);
    EXPECT_TRUE(at::allclose(logits_of(quantised, ids), logits_of(dense, ids), 1e-4, 1e-5)) << type;
    const double error = (logits_of(quantised, ids) - logits_of(model, ids)).abs().max().item<double>();
    EXPECT_LT(error, 0.5 * logits_of(model, ids).abs().max().item<double>()) << type;
  }
}

TEST(QuantizeHfCli, AShardedCheckpointWritesTheFileItsSingleFileDoes) {
  testing::TempDir dir;
  LlamaForCausalLM model = random_checkpoint_model();
  // The same folder name, so that general.name agrees too.
  testing::write_hf_checkpoint(dir.file("one/ckpt"), model, 1);
  testing::write_hf_checkpoint(dir.file("three/ckpt"), model, 3);
  quantize_ok(dir.file("one/ckpt"), dir.file("one.gguf"), "q8_0");
  quantize_ok(dir.file("three/ckpt"), dir.file("three.gguf"), "q8_0");
  const std::string one = testing::read_file(dir.file("one.gguf"));
  EXPECT_FALSE(one.empty());
  EXPECT_TRUE(one == testing::read_file(dir.file("three.gguf"))) << "the sharded checkpoint wrote another file";
  // The index file itself may be given.
  quantize_ok(dir.file("three/ckpt/model.safetensors.index.json"), dir.file("index.gguf"), "q8_0");
  EXPECT_TRUE(one == testing::read_file(dir.file("index.gguf")));
}

TEST(QuantizeHfCli, TiedEmbeddingsAndBfloat16Checkpoints) {
  testing::TempDir dir;
  LlamaForCausalLM model = random_checkpoint_model();
  {
    c10::InferenceMode normal(false);
    torch::NoGradGuard no_grad;
    model->lm_head->weight.copy_(model->model->embed_tokens->weight);  // what tying means
  }
  testing::write_hf_checkpoint(dir.file("tied"), model, 2, /*tied=*/true);  // no lm_head.weight in the files
  quantize_ok(dir.file("tied"), dir.file("tied.gguf"), "f32");
  LlamaForCausalLM tied = read_gguf(dir.file("tied.gguf"));
  const at::Tensor ids = some_ids();
  EXPECT_TRUE(at::equal(logits_of(model, ids), logits_of(tied, ids)));

  // A bf16 checkpoint written as BF16: every weight as it was, so the same bf16 logits.
  LlamaForCausalLM half = random_checkpoint_model(5);
  half->to(at::kBFloat16);
  testing::write_hf_checkpoint(dir.file("bf16"), half);
  quantize_ok(dir.file("bf16"), dir.file("bf16.gguf"), "bf16");
  LlamaForCausalLM read = read_gguf(dir.file("bf16.gguf"), at::kBFloat16);
  EXPECT_TRUE(at::equal(logits_of(half, ids), logits_of(read, ids)));
}

TEST(QuantizeHfCli, BadCheckpointsAreOneLineAndStatus2) {
  testing::TempDir dir;
  LlamaForCausalLM model = random_checkpoint_model();
  const auto checkpoint = [&](const std::string& name, const std::function<void(const std::string&)>& spoil,
                              int shards = 1) {
    const std::string folder = dir.file(name);
    testing::write_hf_checkpoint(folder, model, shards);
    spoil(folder);
    return folder;
  };
  const auto with_config = [&](const std::function<void(nlohmann::json&)>& change) {
    return [change](const std::string& folder) {
      nlohmann::json config = testing::tiny_hf_config(checkpoint_config());
      change(config);
      testing::write_file(folder + "/config.json", config.dump());
    };
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {checkpoint("no-key", with_config([](nlohmann::json& c) { c.erase("num_hidden_layers"); })),
       "/no-key/config.json: \"num_hidden_layers\" is missing"},
      {checkpoint("wrong-type", with_config([](nlohmann::json& c) { c["rms_norm_eps"] = "1e-6"; })),
       "/wrong-type/config.json: \"rms_norm_eps\" is \"1e-6\", not a positive number"},
      {checkpoint("narrow", with_config([](nlohmann::json& c) { c["intermediate_size"] = 64; })),
       "/narrow/config.json does not fit the weights: 6 tensors have another shape, first "
       "model.layers.0.mlp.gate_proj.weight is [96, 64] in model.safetensors, [64, 64] by config.json (hidden_size 64, "
       "intermediate_size 64, 2 layers, 4/2 heads, vocab_size 320)"},
      {checkpoint("shallow", with_config([](nlohmann::json& c) { c["num_hidden_layers"] = 1; })),
       "/shallow/config.json: \"num_hidden_layers\" is 1, but the weights hold 2 layers (model.layers.0 to "
       "model.layers.1)"},
      // Saved without lm_head.weight, but config.json does not say the embeddings are tied.
      {checkpoint("untied",
                  [&](const std::string& f) {
                    testing::write_hf_checkpoint(f, model, 1, /*tied=*/true);
                    testing::write_file(f + "/config.json", testing::tiny_hf_config(checkpoint_config()).dump());
                  }),
       "/untied/model.safetensors does not fit this model (21 tensors; the file has 20):   1 missing from the file:     "
       "lm_head.weight [320, 64]"},
      {checkpoint("wide", with_config([](nlohmann::json& c) { c["hidden_size"] = 4096; })),
       "/wide/config.json describes a model of"},
      {checkpoint("lost-shard", [](const std::string& f) { remove_tree(f + "/model-00002-of-00002.safetensors"); }, 2),
       "/lost-shard/model-00002-of-00002.safetensors does not exist"},
      {checkpoint("no-tokenizer", [](const std::string& f) { remove_tree(f + "/tokenizer.json"); }),
       "/no-tokenizer/tokenizer.json does not exist: quantize takes the vocabulary from the checkpoint's tokenizer.json"},
      {checkpoint("llama3",
                  [](const std::string& f) {
                    nlohmann::json t = testing::tiny_hf_tokenizer();
                    t["model"]["byte_fallback"] = false;
                    t["pre_tokenizer"] = {{"type", "ByteLevel"}};
                    testing::write_file(f + "/tokenizer.json", t.dump());
                  }),
       "quantize does not read Llama 3 vocabularies yet"},
      {checkpoint("no-config", [](const std::string& f) { remove_tree(f + "/config.json"); }),
       "/no-config/config.json does not exist"},
  };
  for (const auto& [folder, expected] : cases) {
    const auto r = run_cli({"quantize", folder, dir.file("x.gguf"), "--type", "q4_0"});
    EXPECT_EQ(r.exit_code, 2) << folder << ": " << r.err;
    EXPECT_TRUE(contains(r.err, expected)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(path_exists(dir.file("x.gguf"))) << "nothing written for bad input";
}

}  // namespace
}  // namespace mlspeed
