// The fused kernels of a decode step (fused/decode_kernels.h) on a CUDA device (label gpu), each
// against a float64 reference on the CPU computed from the same inputs: float32, float16 and
// bfloat16, grouped-query heads, head_dim 64, 128 and 256, batches of 1 to 3, a cache position at
// the start, the middle and the end of the cache, positions after it holding NaN (which only a
// kernel that reads past the position would see). Then the model: Llama's decode_step takes them
// for a quantised model, and not with LibTorch's kernels. Skipped without a CUDA device; without a
// CUDA compiler the kernels are not built and the tests say so.
//
// An output quantised for the next product is compared as the values it holds (scale times quant):
// within the input's int8 rounding (max |x| / 254 of its run), plus the rounding to the dtype that
// the unfused ops do before it. A wrong index, scale or head is far outside.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/models/kv_cache.h"
#include "mlspeed/models/llama.h"
#include "mlspeed/quant/quantized_matrix.h"
#include "testing/fused_kernels_gpu.h"
#include "testing/fused_test_models.h"

namespace mlspeed {
namespace {

class FusedDecodeGpu : public testing::FusedKernelsGpu {};

using testing::fused_cpu64;
using testing::fused_random;



// Relative error of a value rounded to the dtype by two ops (silu, then the product): twice the
// unit roundoff (2^-8 for bfloat16's 8 significant bits, 2^-11 for float16's 11), and a float32
// sum's.
double fused_unit(at::ScalarType dtype) {
  if (dtype == at::kBFloat16) return 2 * std::ldexp(1.0, -8);
  if (dtype == at::kHalf) return 2 * std::ldexp(1.0, -11);
  return 1e-6;
}


// got (quantised) holds `want` (float64, (rows, cols)) to within its int8 rounding and the dtype's;
// and each run's stored sum is the sum of its quants.
void expect_quantised_close(const quant::QuantizedInput& got, const at::Tensor& want, at::ScalarType dtype) {
  ASSERT_EQ(got.rows, want.size(0));
  ASSERT_EQ(got.cols, want.size(1));
  const at::Tensor values = fused_cpu64(quant::dequantize_input(got));
  const at::Tensor run_max = want.abs().view({-1, 32}).amax(1, true).expand({-1, 32}).reshape(want.sizes());
  const at::Tensor bound = run_max * (1.02 / 254) + want.abs() * fused_unit(dtype) + 1e-6;
  const at::Tensor excess = (values - want).abs() - bound;
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << "worst at flat index " << excess.argmax().item<int64_t>() << ": got "
      << values.view({-1})[excess.argmax()].item<double>() << ", want " << want.view({-1})[excess.argmax()].item<double>();
  const at::Tensor bytes = got.bytes.cpu();
  const int64_t n = got.rows * got.cols, runs = n / 32;
  const at::Tensor quants = bytes.narrow(0, 0, n).view(at::kChar).to(at::kInt).view({runs, 32}).sum(1);
  const at::Tensor sums = bytes.narrow(0, n + runs * 4, runs * 4).view(at::kInt);
  EXPECT_TRUE(quants.to(at::kInt).equal(sums)) << "a run's stored sum is not the sum of its quants";
}

// got (activations in `dtype`) holds `want` (float64) to within two roundings to the dtype.
void expect_values_close(const at::Tensor& got, const at::Tensor& want, at::ScalarType dtype) {
  ASSERT_EQ(got.scalar_type(), dtype);
  ASSERT_EQ(got.sizes(), want.sizes());
  const at::Tensor excess = (fused_cpu64(got) - want).abs() - (want.abs() * fused_unit(dtype) + 1e-6);
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << "worst at flat index " << excess.argmax().item<int64_t>() << ": got "
      << fused_cpu64(got).view({-1})[excess.argmax()].item<double>() << ", want "
      << want.view({-1})[excess.argmax()].item<double>();
}

TEST_F(FusedDecodeGpu, RmsNormQuantiseMatchesTheFloat64Norm) {
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{1, 4096}, {3, 96}, {2, 11008}}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " " + std::to_string(rows) + "x" + std::to_string(cols));
      const at::Tensor x = fused_random({rows, cols}, 1, dtype, gpu) * 3;
      const at::Tensor w = fused_random({cols}, 2, dtype, gpu);
      const quant::QuantizedInput got = kernels->rms_norm_quantize(x, w, 1e-5);
      const at::Tensor x64 = fused_cpu64(x);
      const at::Tensor want = x64 * at::rsqrt(x64.pow(2).mean(-1, true) + 1e-5) * fused_cpu64(w);
      expect_quantised_close(got, want, dtype);
    }
  }
}

TEST_F(FusedDecodeGpu, SiluMulQuantiseMatchesTheFloat64Activation) {
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    for (const auto& [rows, ffn] : {std::pair<int64_t, int64_t>{1, 11008}, {3, 64}}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " " + std::to_string(rows) + "x" + std::to_string(ffn));
      const at::Tensor gate_up = fused_random({rows, 2 * ffn}, 3, dtype, gpu) * 4;
      const at::Tensor g = fused_cpu64(gate_up.narrow(1, 0, ffn)), u = fused_cpu64(gate_up.narrow(1, ffn, ffn));
      const at::Tensor want = g * at::sigmoid(g) * u;
      expect_quantised_close(kernels->silu_mul_quantize(gate_up), want, dtype);
      expect_values_close(kernels->silu_mul(gate_up), want, dtype);
    }
  }
}

// x cos + roll(x, head_dim / 2) signed_sin of every head of qkv (B, (heads + 2 kv_heads) head_dim)
// in float64, rounded as the kernel rounds (x cos to the dtype, then the sum): (B, heads + 2
// kv_heads, head_dim), the v heads rotated too (the caller takes them from `parts`).
at::Tensor fused_reference_rotary(const at::Tensor& parts, const at::Tensor& cos, const at::Tensor& sin,
                                  int64_t position, at::ScalarType dtype) {
  const auto round = [&](const at::Tensor& t) { return t.to(dtype).to(at::kDouble); };
  const at::Tensor c = fused_cpu64(cos)[position], s = fused_cpu64(sin)[position];
  return round(round(parts * c) + at::roll(parts, parts.size(-1) / 2, -1) * s);
}

// softmax(q k / sqrt(d)) v over positions 0..position, in float64: (B, heads * head_dim).
at::Tensor fused_reference_attention(const at::Tensor& q, const at::Tensor& keys, const at::Tensor& values,
                                     int64_t position) {
  const int64_t batch = q.size(0), heads = q.size(1), head_dim = q.size(2), group = heads / keys.size(1);
  const at::Tensor k = fused_cpu64(keys).narrow(2, 0, position + 1).repeat_interleave(group, 1);
  const at::Tensor v = fused_cpu64(values).narrow(2, 0, position + 1).repeat_interleave(group, 1);
  const at::Tensor scores = at::matmul(fused_cpu64(q).unsqueeze(2), k.transpose(2, 3)) / std::sqrt(double(head_dim));
  return at::matmul(at::softmax(scores, -1), v).reshape({batch, heads * head_dim});
}

struct AttentionCase {
  int64_t batch, heads, kv_heads, head_dim, capacity, position;
};

std::string attention_case_name(const AttentionCase& c, at::ScalarType dtype) {
  return std::string(c10::toString(dtype)) + " batch " + std::to_string(c.batch) + " heads " +
         std::to_string(c.heads) + "/" + std::to_string(c.kv_heads) + " head_dim " + std::to_string(c.head_dim) +
         " position " + std::to_string(c.position) + " of " + std::to_string(c.capacity);
}

TEST_F(FusedDecodeGpu, RotaryAttentionWritesTheRotatedKeyAndTheValueAtThePositionOnly) {
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    for (const AttentionCase& t : {AttentionCase{1, 32, 32, 128, 32, 0}, {2, 8, 2, 64, 32, 17}, {3, 4, 1, 256, 32, 31}}) {
      SCOPED_TRACE(attention_case_name(t, dtype));
      const at::Tensor qkv = fused_random({t.batch, (t.heads + 2 * t.kv_heads) * t.head_dim}, 4, dtype, gpu);
      const auto tables = llama::rotary_tables(64, t.head_dim, 10000.0);
      const at::Tensor cos = tables.first.to(gpu, dtype), sin = tables.second.to(gpu, dtype);
      const at::Tensor keys = at::full({t.batch, t.kv_heads, t.capacity, t.head_dim}, 7.0, qkv.options());
      const at::Tensor values = keys.clone();
      const at::Tensor where = at::full({1}, t.position, qkv.options().dtype(at::kLong));
      const at::Tensor tickets = at::zeros({t.batch * t.heads}, qkv.options().dtype(at::kInt));
      kernels->rotary_attention_quantize(qkv, t.heads, t.kv_heads, cos, sin, where, keys, values, tickets);
      const at::Tensor parts = fused_cpu64(qkv).view({t.batch, t.heads + 2 * t.kv_heads, t.head_dim});
      const at::Tensor rotated = fused_reference_rotary(parts, cos, sin, t.position, dtype);
      const double tolerance = 2 * fused_unit(dtype) * rotated.abs().max().item<double>() + 1e-6;
      const at::Tensor k_row = fused_cpu64(keys.select(2, t.position));
      EXPECT_LE((k_row - rotated.narrow(1, t.heads, t.kv_heads)).abs().max().item<double>(), tolerance) << "k";
      EXPECT_TRUE(fused_cpu64(values.select(2, t.position)).equal(parts.narrow(1, t.heads + t.kv_heads, t.kv_heads)))
          << "v is written as it is";
      // Every other row of the cache untouched, and the counters back at zero.
      const at::Tensor others = at::ones({t.capacity}, at::kBool).index_put_({t.position}, false);
      EXPECT_TRUE((fused_cpu64(keys).index({at::indexing::Slice(), at::indexing::Slice(), others}) == 7.0).all().item<bool>());
      EXPECT_TRUE((fused_cpu64(values).index({at::indexing::Slice(), at::indexing::Slice(), others}) == 7.0).all().item<bool>());
      EXPECT_EQ(tickets.count_nonzero().item<int64_t>(), 0) << "the attention leaves its counters at zero";
    }
  }
}

TEST_F(FusedDecodeGpu, RotaryAttentionReadsThePositionsUpToTheCachePositionAndNoMore) {
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    for (const AttentionCase& t : {AttentionCase{1, 32, 32, 128, 144, 100}, {2, 8, 2, 64, 300, 0},
                                   {3, 4, 1, 256, 1000, 999}, {1, 8, 8, 128, 3712, 3583}}) {
      SCOPED_TRACE(attention_case_name(t, dtype));
      const at::Tensor qkv = fused_random({t.batch, (t.heads + 2 * t.kv_heads) * t.head_dim}, 5, dtype, gpu);
      const auto tables = llama::rotary_tables(t.capacity, t.head_dim, 10000.0);
      const at::Tensor cos = tables.first.to(gpu, dtype), sin = tables.second.to(gpu, dtype);
      const at::Tensor keys = fused_random({t.batch, t.kv_heads, t.capacity, t.head_dim}, 6, dtype, gpu);
      const at::Tensor values = fused_random({t.batch, t.kv_heads, t.capacity, t.head_dim}, 7, dtype, gpu);
      // The reference over the cache as the kernel leaves it: the new k and v at the position.
      const at::Tensor parts = fused_cpu64(qkv).view({t.batch, t.heads + 2 * t.kv_heads, t.head_dim});
      const at::Tensor rotated = fused_reference_rotary(parts, cos, sin, t.position, dtype);
      const at::Tensor keys64 = fused_cpu64(keys), values64 = fused_cpu64(values);
      keys64.select(2, t.position).copy_(rotated.narrow(1, t.heads, t.kv_heads));
      values64.select(2, t.position).copy_(parts.narrow(1, t.heads + t.kv_heads, t.kv_heads));
      const at::Tensor want = fused_reference_attention(rotated.narrow(1, 0, t.heads), keys64, values64, t.position);
      // What a kernel reading the position's old row or any row after it would take in.
      keys.narrow(2, t.position, t.capacity - t.position).fill_(NAN);
      values.narrow(2, t.position, t.capacity - t.position).fill_(NAN);
      const at::Tensor where = at::full({1}, t.position, qkv.options().dtype(at::kLong));
      const at::Tensor tickets = at::zeros({t.batch * t.heads}, qkv.options().dtype(at::kInt));
      const quant::QuantizedInput got =
          kernels->rotary_attention_quantize(qkv, t.heads, t.kv_heads, cos, sin, where, keys, values, tickets);
      expect_quantised_close(got, want, dtype);
      // Again on the same counters: the same bytes (the first launch left them ready).
      const quant::QuantizedInput again =
          kernels->rotary_attention_quantize(qkv, t.heads, t.kv_heads, cos, sin, where, keys, values, tickets);
      EXPECT_TRUE(again.bytes.equal(got.bytes)) << "a second launch on the same counters";
      // And as activations (the step of 16-bit weights): the values before quantising.
      expect_values_close(
          kernels->decode_attention(qkv, {}, t.heads, t.kv_heads, cos, sin, where, keys, values, tickets), want, dtype);
    }
  }
}

// A small Llama stored in Q4_0 on the GPU, its projections not fused yet (the workloads fuse them).
llama::LlamaForCausalLM fused_small_llama(const c10::Device& device) {
  const llama::LlamaConfig c = testing::fused_test_llama_config();
  llama::StoredWeights stored;
  stored.format = ModelFormat::q4_0;
  stored.layers = c.num_hidden_layers;
  llama::LlamaForCausalLM model(c, at::TensorOptions(at::kBFloat16).device(device), stored);
  // The device's own random stream (a CPU generator cannot fill CUDA tensors), cloned and seeded.
  at::Generator generator = at::globalContext().defaultGenerator(device).clone();
  generator.set_current_seed(9);
  model->init_weights(generator);
  return model;
}

TEST_F(FusedDecodeGpu, LlamaDecodeStepTakesTheFusedKernelsForAQuantisedModelOnly) {
  c10::InferenceMode inference;
  llama::LlamaForCausalLM model = fused_small_llama(gpu);
  const at::Tensor x = model->model->embed_tokens(at::full({1, 1}, 3, at::TensorOptions(at::kLong).device(gpu)));
  // q, k and v apart (as a Q4_K_M file's layers with v in q6_k stay): a product each, joined.
  KVCache apart_cache = model->make_cache(1, 8);
  const std::optional<at::Tensor> apart = model->fused_decode_step(x, apart_cache);
  ASSERT_TRUE(apart.has_value()) << "q, k, v and gate, up as separate matrices";
  model->fuse_projections();
  KVCache cache = model->make_cache(1, 8);
  const std::optional<at::Tensor> logits = model->fused_decode_step(x, cache);
  ASSERT_TRUE(logits.has_value());
  EXPECT_EQ(logits->sizes(), (at::IntArrayRef{1, 1, 256}));
  EXPECT_TRUE(at::isfinite(*logits).all().item<bool>());
  // Each row of a product is the same sum whichever matrix holds it.
  EXPECT_TRUE(at::equal(*apart, *logits)) << "one matrix for q, k and v against three";
  {
    const KernelSetScope libtorch(KernelSet::libtorch);
    EXPECT_FALSE(model->fused_decode_step(x, cache).has_value()) << "--kernels libtorch runs LibTorch's ops";
  }
}

// The small Llama above with dense weights in `dtype`.
llama::LlamaForCausalLM fused_dense_llama(const c10::Device& device, at::ScalarType dtype) {
  llama::LlamaForCausalLM model(testing::fused_test_llama_config(), at::TensorOptions(dtype).device(device));
  at::Generator generator = at::globalContext().defaultGenerator(device).clone();
  generator.set_current_seed(11);
  model->init_weights(generator);
  return model;
}

// Eight decode steps of the fused step of 16-bit weights against LibTorch's ops, each on its own
// cache: the logits agree at every step (so the keys and values each wrote and read back agree),
// within the dtype's rounding of a few ops; a wrong head, position or residual is far outside.
TEST_F(FusedDecodeGpu, LlamaDecodeStepOfDenseWeightsGivesLibTorchsLogits) {
  c10::InferenceMode inference;
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    SCOPED_TRACE(c10::toString(dtype));
    llama::LlamaForCausalLM model = fused_dense_llama(gpu, dtype);
    const at::Tensor ids = at::tensor({5, 17, 3, 250, 9, 9, 42, 0}, at::TensorOptions(at::kLong).device(gpu));
    {
      KVCache cache = model->make_cache(2, 16);
      const at::Tensor x = model->model->embed_tokens(ids.narrow(0, 0, 2).view({2, 1}));
      EXPECT_FALSE(model->fused_decode_step(x, cache).has_value()) << "q, k and v not yet one matrix";
    }
    model->fuse_projections();
    KVCache fused_cache = model->make_cache(2, 16), libtorch_cache = model->make_cache(2, 16);
    for (int64_t step = 0; step < 4; ++step) {
      const at::Tensor token = ids.narrow(0, 2 * step, 2).view({2, 1});
      const at::Tensor x = model->model->embed_tokens(token);
      const std::optional<at::Tensor> fused = model->fused_decode_step(x, fused_cache);
      ASSERT_TRUE(fused.has_value()) << "a dense model with its projections fused";
      at::Tensor unfused;
      {
        const KernelSetScope libtorch(KernelSet::libtorch);
        ASSERT_FALSE(model->fused_decode_step(x, libtorch_cache).has_value());
        unfused = model->decode_step(token, libtorch_cache);
      }
      const double scale = fused_cpu64(unfused).abs().max().item<double>();
      const double worst = (fused_cpu64(*fused) - fused_cpu64(unfused)).abs().max().item<double>();
      const double tolerance = dtype == at::kFloat ? 1e-4 : 16 * fused_unit(dtype);
      EXPECT_LE(worst, tolerance * scale) << "step " << step << ": logits up to " << scale;
    }
  }
}

}  // namespace
}  // namespace mlspeed
