// A Llama written as a GGUF file and read back: the same logits in F32 (the tensor names, shapes
// and llama.cpp's row order of attn_q and attn_k undone exactly), the quantised formats equal to
// the model of their own dequantised weights, and files that are no Llama refused by name.
#include "mlspeed/models/llama_gguf.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include "mlspeed/core/errors.h"
#include "mlspeed/io/gguf_writer.h"
#include "mlspeed/models/llama_gguf_write.h"
#include "testing/dequantised_llama.h"
#include "testing/test_support.h"

namespace mlspeed::llama {
namespace {

LlamaConfig tiny_config() {
  LlamaConfig c;
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

LlamaForCausalLM random_dense(const LlamaConfig& c) {
  LlamaForCausalLM model(c);
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(11));
  return model;
}

at::Tensor logits(LlamaForCausalLM& model, const at::Tensor& ids) {
  c10::InferenceMode inference;
  return model->forward(ids).to(at::kFloat);
}

LlamaForCausalLM round_trip(LlamaForCausalLM& model, ModelFormat format, const std::string& path, GgufModel* out = nullptr) {
  write_gguf(model, synthetic_vocabulary(model->config().vocab_size), {format, "test", {}}, path);
  const gguf::File file(path);
  const GgufModel described = describe_gguf(file);
  if (out) *out = described;
  return load_gguf(file, described, at::kCPU, at::kFloat);
}

TEST(LlamaGguf, RowPermutationIsLlamaCppsAndUndoesItself) {
  // Two heads of 4: HF rows (h, half j, i) are llama.cpp's rows (h, i, j).
  EXPECT_TRUE(at::equal(unpermute_rows(8, 2), at::tensor(std::vector<int64_t>{0, 2, 1, 3, 4, 6, 5, 7})));
  const at::Tensor p = unpermute_rows(128, 4), inverse = unpermute_rows(128, 4, true);
  EXPECT_TRUE(at::equal(p.index_select(0, inverse), at::arange(128, at::kLong)));
}

TEST(LlamaGguf, AFloat32FileGivesTheSameLogits) {
  testing::TempDir dir;
  const LlamaConfig c = tiny_config();
  LlamaForCausalLM model = random_dense(c);
  GgufModel described;
  LlamaForCausalLM read = round_trip(model, ModelFormat::f32, dir.file("m.gguf"), &described);
  EXPECT_EQ(described.config.num_key_value_heads, 2);
  EXPECT_DOUBLE_EQ(described.config.rope_theta, 500000.0);
  EXPECT_EQ(described.config.vocab_size, 320);
  EXPECT_EQ(described.parameters, count_params(c));
  EXPECT_EQ(described.label, "llama " + described.size_label + " F32");
  const at::Tensor ids = at::randint(c.vocab_size, {2, 7}, at::make_generator<at::CPUGeneratorImpl>(1), at::kLong);
  EXPECT_TRUE(at::equal(logits(model, ids), logits(read, ids)));
}

// Each quantised file is the model of its own dequantised weights: its prompt logits (the exact
// dequantise-then-matmul path) equal those of a dense model holding the dequantised values.
TEST(LlamaGguf, QuantisedFilesAreTheModelOfTheirDequantisedWeights) {
  testing::TempDir dir;
  const LlamaConfig c = tiny_config();
  LlamaForCausalLM model = random_dense(c);
  for (ModelFormat format : {ModelFormat::q8_0, ModelFormat::q4_0, ModelFormat::q4_k_m, ModelFormat::q6_k}) {
    GgufModel described;
    LlamaForCausalLM quantised = round_trip(model, format, dir.file(std::string(name(format)) + ".gguf"), &described);
    EXPECT_EQ(described.file_type, format);
    EXPECT_TRUE(quantised->lm_head->blocks.defined()) << name(format);
    LlamaForCausalLM dense = testing::dequantised_dense(quantised, at::kCPU);
    const at::Tensor ids = at::randint(c.vocab_size, {1, 12}, at::make_generator<at::CPUGeneratorImpl>(2), at::kLong);
    EXPECT_TRUE(at::allclose(logits(quantised, ids), logits(dense, ids), 1e-4, 1e-5)) << name(format);
    // And close to the original model: quantisation noise, not a scrambled tensor.
    const double error = (logits(quantised, ids) - logits(model, ids)).abs().max().item<double>();
    EXPECT_LT(error, 0.5 * logits(model, ids).abs().max().item<double>()) << name(format);
  }
}

TEST(LlamaGguf, AFileOfAnotherArchitectureIsRefusedByName) {
  testing::TempDir dir;
  gguf::Writer w;
  w.set_string("general.architecture", "gpt2");
  w.add_tensor("token_embd.weight", {4, 8}, WeightFormat::f32, std::vector<uint8_t>(4 * 8 * 4));
  w.write(dir.file("gpt2.gguf"));
  const gguf::File file(dir.file("gpt2.gguf"));
  try {
    describe_gguf(file);
    FAIL() << "a GPT-2 file was read as a Llama";
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find("general.architecture is 'gpt2'"), std::string::npos) << e.what();
  }
}

TEST(LlamaGguf, AMissingLayerTensorIsRefused) {
  testing::TempDir dir;
  LlamaForCausalLM model = random_dense(tiny_config());
  write_gguf(model, synthetic_vocabulary(320), {ModelFormat::f32, "test", {}}, dir.file("full.gguf"));
  // The same file without blk.1.ffn_up.weight: every other tensor copied through the writer.
  const gguf::File full(dir.file("full.gguf"));
  gguf::Writer w;
  for (const gguf::KeyValue& kv : full.metadata()) w.set(kv.key, kv.value);
  for (const gguf::TensorInfo& t : full.tensors())
    if (t.name != "blk.1.ffn_up.weight") w.add_tensor(t.name, t.dims, t.format, full.data(t), t.bytes);
  w.write(dir.file("short.gguf"));
  const gguf::File file(dir.file("short.gguf"));
  EXPECT_THROW(describe_gguf(file), InputFileError);
}

}  // namespace
}  // namespace mlspeed::llama
