// GPT-2's fused decode kernels (fused/decode_kernels.h) on a CUDA device (label gpu): the attention
// with a bias and no rotation against its float64 reference, and GPT-2's fused decode step against
// LibTorch's ops over several steps (the products: decode_product_gpu_test.cpp). float32, float16
// and bfloat16; skipped without a CUDA device; without a CUDA compiler the kernels are not built and
// the tests say so.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/models/gpt2.h"
#include "mlspeed/models/kv_cache.h"
#include "testing/fused_kernels_gpu.h"
#include "testing/fused_test_models.h"

namespace mlspeed {
namespace {

class Gpt2FusedDecodeGpu : public testing::FusedKernelsGpu {};

using testing::fused_cpu64;
using testing::fused_random;
using testing::expect_rows_close;
using testing::fused_rows_unit;

// softmax(q k / sqrt(d)) v of qkv + bias over positions 0..position of the cache (the new k and v
// at the position): no rotation, in float64, (B, heads * head_dim).
TEST_F(Gpt2FusedDecodeGpu, AttentionWithABiasAndNoRotation) {
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    const int64_t batch = 2, heads = 12, head_dim = 64, capacity = 40, position = 23;
    SCOPED_TRACE(c10::toString(dtype));
    const at::Tensor qkv = fused_random({batch, 3 * heads * head_dim}, 8, dtype, gpu);
    const at::Tensor bias = fused_random({3 * heads * head_dim}, 9, dtype, gpu);
    const at::Tensor keys = fused_random({batch, heads, capacity, head_dim}, 10, dtype, gpu);
    const at::Tensor values = fused_random({batch, heads, capacity, head_dim}, 11, dtype, gpu);
    const at::Tensor parts = (fused_cpu64(qkv) + fused_cpu64(bias)).view({batch, 3, heads, head_dim});
    at::Tensor k64 = fused_cpu64(keys).narrow(2, 0, position + 1).clone(), v64 = fused_cpu64(values).narrow(2, 0, position + 1).clone();
    k64.select(2, position).copy_(parts.select(1, 1));
    v64.select(2, position).copy_(parts.select(1, 2));
    const at::Tensor scores = at::matmul(parts.select(1, 0).unsqueeze(2), k64.transpose(2, 3)) / std::sqrt(64.0);
    const at::Tensor want = at::matmul(at::softmax(scores, -1), v64).reshape({batch, heads * head_dim});
    const at::Tensor where = at::full({1}, position, qkv.options().dtype(at::kLong));
    const at::Tensor tickets = at::zeros({batch * heads}, qkv.options().dtype(at::kInt));
    const at::Tensor got = kernels->decode_attention(qkv, bias, heads, heads, {}, {}, where, keys, values, tickets);
    expect_rows_close(got, want, dtype);
    expect_rows_close(keys.select(2, position), parts.select(1, 1), dtype);  // the biased k, unrotated
  }
}

gpt2::GPT2Model small_gpt2(const c10::Device& device, at::ScalarType dtype) {
  gpt2::GPT2Model model = testing::fused_test_gpt2(300);
  model->to(device, dtype);
  model->eval();
  return model;
}

// Six decode steps of the fused step against LibTorch's ops, each on its own cache: the logits
// agree at every step within the dtype's rounding of a few ops.
TEST_F(Gpt2FusedDecodeGpu, DecodeStepGivesLibTorchsLogits) {
  c10::InferenceMode inference;
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    SCOPED_TRACE(c10::toString(dtype));
    gpt2::GPT2Model model = small_gpt2(gpu, dtype);
    KVCache fused_cache = model->make_cache(2, 16), libtorch_cache = model->make_cache(2, 16);
    const at::Tensor ids = at::tensor({5, 17, 3, 250, 9, 9, 42, 0, 299, 1, 7, 7},
                                      at::TensorOptions(at::kLong).device(gpu));
    for (int64_t step = 0; step < 6; ++step) {
      const at::Tensor token = ids.narrow(0, 2 * step, 2).view({2, 1});
      const at::Tensor fused = model->decode_step(token, fused_cache);
      at::Tensor unfused;
      {
        const KernelSetScope libtorch(KernelSet::libtorch);
        unfused = model->decode_step(token, libtorch_cache);
      }
      ASSERT_EQ(fused.sizes(), unfused.sizes());
      const double scale = fused_cpu64(unfused).abs().max().item<double>();
      const double worst = (fused_cpu64(fused) - fused_cpu64(unfused)).abs().max().item<double>();
      EXPECT_LE(worst, 4 * fused_rows_unit(dtype) * scale) << "step " << step << ": logits up to " << scale;
    }
    const at::Tensor x = at::zeros({2, 1, 128}, at::TensorOptions(dtype).device(gpu));
    EXPECT_TRUE(model->fused_decode_step(x, fused_cache).has_value()) << "the fused step took the steps above";
    {
      const KernelSetScope libtorch(KernelSet::libtorch);
      EXPECT_FALSE(model->fused_decode_step(x, fused_cache).has_value()) << "--kernels libtorch runs LibTorch's ops";
    }
  }
}

}  // namespace
}  // namespace mlspeed
