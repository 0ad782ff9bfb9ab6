// The weight-format table and llama.cpp's per-tensor mix, read back as a user of llama.cpp knows
// them: bits per weight, names in either spelling, which tensors get more bits.
#include "mlspeed/core/weight_format.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "mlspeed/core/numerics.h"

namespace mlspeed {
namespace {

TEST(WeightFormat, BitsPerWeightAreBlockBytesOverBlockElements) {
  EXPECT_DOUBLE_EQ(bits_per_weight(WeightFormat::f32), 32.0);
  EXPECT_DOUBLE_EQ(bits_per_weight(WeightFormat::bf16), 16.0);
  EXPECT_DOUBLE_EQ(bits_per_weight(WeightFormat::q8_0), 8.5);     // 34 bytes / 32
  EXPECT_DOUBLE_EQ(bits_per_weight(WeightFormat::q4_0), 4.5);     // 18 bytes / 32
  EXPECT_DOUBLE_EQ(bits_per_weight(WeightFormat::q4_k), 4.5);     // 144 bytes / 256
  EXPECT_DOUBLE_EQ(bits_per_weight(WeightFormat::q6_k), 6.5625);  // 210 bytes / 256
  EXPECT_EQ(storage_bytes(WeightFormat::q4_0, 4096), 128 * 18);
  EXPECT_EQ(storage_bytes(WeightFormat::q6_k, 4096), 16 * 210);
  EXPECT_THROW(storage_bytes(WeightFormat::q4_k, 4096 + 32), std::invalid_argument);
}

TEST(WeightFormat, GgmlTypeIdsAndNames) {
  EXPECT_EQ(format_of_ggml_type(2), WeightFormat::q4_0);
  EXPECT_EQ(format_of_ggml_type(14), WeightFormat::q6_k);
  EXPECT_EQ(format_of_ggml_type(30), WeightFormat::bf16);
  EXPECT_FALSE(format_of_ggml_type(13));  // Q5_K: not read
  EXPECT_EQ(ggml_type_name(16), "IQ2_XXS");
  EXPECT_EQ(ggml_type_name(4), "type 4");  // retired Q4_2
  EXPECT_EQ(ggml_type_name(1000), "type 1000");
  EXPECT_EQ(supported_ggml_types(), "F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K");
}

TEST(WeightFormat, FileTypesTakeEitherSpelling) {
  EXPECT_EQ(parse_model_format("Q4_K_M"), ModelFormat::q4_k_m);
  EXPECT_EQ(parse_model_format("q4_k_m"), ModelFormat::q4_k_m);
  EXPECT_EQ(parse_model_format("fp16"), ModelFormat::f16);
  EXPECT_FALSE(parse_model_format("q4_k"));  // a tensor type, not a file type
  EXPECT_FALSE(parse_model_format("Q5_K_M"));
  EXPECT_EQ(label(ModelFormat::q4_k_m), "Q4_K_M");
  EXPECT_EQ(llama_file_type(ModelFormat::q4_0), 2u);
  EXPECT_EQ(model_format_of_file_type(15), ModelFormat::q4_k_m);
  EXPECT_EQ(model_format_choices(), "f32, f16, bf16, q8_0, q4_0, q4_k_m, q6_k");
}

// TheBloke's llama-2-7b-chat.Q4_0.gguf: Q4_0 everywhere but the output (Q6_K) and the norms.
TEST(WeightFormat, Q4_0KeepsTheOutputInQ6_K) {
  EXPECT_EQ(tensor_format(ModelFormat::q4_0, TensorRole::output, 0, 32, 4096), WeightFormat::q6_k);
  EXPECT_EQ(tensor_format(ModelFormat::q4_0, TensorRole::embedding, 0, 32, 4096), WeightFormat::q4_0);
  EXPECT_EQ(tensor_format(ModelFormat::q4_0, TensorRole::attn_v, 0, 32, 4096), WeightFormat::q4_0);
  EXPECT_EQ(tensor_format(ModelFormat::q4_0, TensorRole::norm, 3, 32, 4096), WeightFormat::f32);
  EXPECT_EQ(tensor_format(ModelFormat::q8_0, TensorRole::output, 0, 32, 4096), WeightFormat::q8_0);
  EXPECT_EQ(tensor_format(ModelFormat::bf16, TensorRole::output, 0, 32, 4096), WeightFormat::bf16);
}

// llama.cpp's use_more_bits over 32 layers: 0-3, 28-31 and every third layer from 6.
TEST(WeightFormat, Q4_K_MGivesSomeLayersQ6_K) {
  std::vector<int64_t> more;
  for (int64_t layer = 0; layer < 32; ++layer) {
    const WeightFormat v = tensor_format(ModelFormat::q4_k_m, TensorRole::attn_v, layer, 32, 4096);
    EXPECT_EQ(v, tensor_format(ModelFormat::q4_k_m, TensorRole::ffn_down, layer, 32, 11008)) << layer;
    if (v == WeightFormat::q6_k) more.push_back(layer);
    else EXPECT_EQ(v, WeightFormat::q4_k) << layer;
    EXPECT_EQ(tensor_format(ModelFormat::q4_k_m, TensorRole::attn_q, layer, 32, 4096), WeightFormat::q4_k);
  }
  EXPECT_EQ(more, (std::vector<int64_t>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
}

// Rows that are no whole block fall back as llama.cpp's tensor_type_fallback, to formats read here.
TEST(WeightFormat, RowsOfNoWholeBlockFallBack) {
  EXPECT_EQ(tensor_format(ModelFormat::q4_k_m, TensorRole::attn_q, 5, 32, 32), WeightFormat::q4_0);
  EXPECT_EQ(tensor_format(ModelFormat::q4_0, TensorRole::output, 0, 2, 32), WeightFormat::q8_0);
  EXPECT_EQ(tensor_format(ModelFormat::q4_0, TensorRole::attn_q, 0, 2, 48), WeightFormat::f16);
}

TEST(Numerics, WeightsAreTheJobsOwnUnlessChosen) {
  EXPECT_EQ(weight_format(Numerics(Precision::bf16), Job::train), ModelFormat::f32);  // master weights
  EXPECT_EQ(weight_format(Numerics(Precision::bf16), Job::infer), ModelFormat::bf16);
  EXPECT_EQ(weight_format(Numerics(Precision::tf32), Job::infer), ModelFormat::f32);
  EXPECT_EQ(weight_format(Numerics(Precision::fp16, ModelFormat::q4_0), Job::infer), ModelFormat::q4_0);
  EXPECT_TRUE(quantized(Numerics(Precision::fp16, ModelFormat::q8_0)));
  EXPECT_FALSE(quantized(Numerics(Precision::fp16, ModelFormat::bf16)));
  EXPECT_NE(Numerics(Precision::bf16), Numerics(Precision::bf16, ModelFormat::bf16));
}

}  // namespace
}  // namespace mlspeed
