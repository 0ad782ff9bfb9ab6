// The fused decode product (fused/decode_kernels.h's product, fused/cuda/decode_product.cu) on a
// CUDA device (label gpu): each of its steps (LayerNorm or RMSNorm before, bias, GELU, residual add
// after) in both weight layouts against a float64 reference, at odd sizes, at batches the launcher
// splits (more than 8 rows; normalised rows that do not all fit in shared memory at once), with the
// verifier's faults, and its refusals. float32, float16 and bfloat16; skipped without a CUDA device.
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mlspeed/fused/decode_kernels.h"
#include "mlspeed/fused/kernel_fault.h"
#include "testing/fused_kernels_gpu.h"

namespace mlspeed {
namespace {

class DecodeProductGpu : public testing::FusedKernelsGpu {};

using fused::ProductSteps;
using testing::fused_cpu64;
using testing::fused_random;

// A row's products agree within the dtype's roundings (testing::fused_rows_unit), float32's within
// its sums over up to 8192 terms in another order.
void expect_product_close(const at::Tensor& got, const at::Tensor& want, at::ScalarType dtype) {
  testing::expect_rows_close(got, want, dtype, dtype == at::kFloat ? 1e-4 : 0);
}

struct ProductCase {
  int64_t batch, k, n;
};

// Sizes the launcher treats differently: GPT-2's and Llama's shapes, rows and columns that fill no
// whole block, more rows than one launch takes (9), a norm of 4096 and 8192 values (2 and 1 rows a
// launch).
const std::vector<ProductCase>& product_cases() {
  static const std::vector<ProductCase> cases = {{1, 768, 2304}, {3, 64, 40}, {9, 72, 24}, {2, 4096, 136},
                                                 {1, 3072, 768}, {5, 8192, 16}};
  return cases;
}

// The steps' parameters drawn for (k, n); the norm and the rest chosen by the caller.
struct ProductInputs {
  at::Tensor x, weight, norm_weight, norm_bias, bias, residual;
};

ProductInputs product_inputs(const ProductCase& c, bool in_by_out, at::ScalarType dtype, const c10::Device& gpu) {
  ProductInputs in;
  in.x = fused_random({c.batch, c.k}, 1, dtype, gpu) * 2 + 0.5;
  const double scale = 1 / std::sqrt(static_cast<double>(c.k));  // outputs of about one
  in.weight = fused_random(in_by_out ? at::IntArrayRef{c.k, c.n} : at::IntArrayRef{c.n, c.k}, 2, dtype, gpu) * scale;
  in.norm_weight = fused_random({c.k}, 3, dtype, gpu) * 0.2 + 1;
  in.norm_bias = fused_random({c.k}, 4, dtype, gpu) * 0.1;
  in.bias = fused_random({c.n}, 5, dtype, gpu);
  in.residual = fused_random({c.batch, c.n}, 6, dtype, gpu) * 3;
  return in;
}

// The product's contract in float64: norm, product, bias, GELU, then the residual.
at::Tensor product_want(const ProductInputs& in, bool in_by_out, const ProductSteps& s, double gain_offset = 0,
                        double bias_times = 1) {
  at::Tensor x = fused_cpu64(in.x);
  if (s.norm == ProductSteps::Norm::layer) {
    const at::Tensor mean = x.mean(-1, true), var = (x - mean).pow(2).mean(-1, true);
    x = (x - mean) * at::rsqrt(var + s.eps) * fused_cpu64(in.norm_weight) + fused_cpu64(in.norm_bias);
  } else if (s.norm == ProductSteps::Norm::rms) {
    x = x * at::rsqrt(x.pow(2).mean(-1, true) + s.eps) * (fused_cpu64(in.norm_weight) + gain_offset);
  }
  const at::Tensor w = fused_cpu64(in.weight);
  at::Tensor y = at::mm(x, in_by_out ? w : w.t());
  if (s.bias.defined()) y = y + bias_times * fused_cpu64(in.bias);
  if (s.gelu) y = 0.5 * y * (1 + at::tanh(std::sqrt(2 / M_PI) * (y + 0.044715 * y.pow(3))));
  return s.residual.defined() ? fused_cpu64(in.residual) + y : y;
}

std::string product_trace(at::ScalarType dtype, bool in_by_out, const ProductCase& c) {
  return std::string(c10::toString(dtype)) + (in_by_out ? " (k, n) " : " (n, k) ") + std::to_string(c.batch) + "x" +
         std::to_string(c.k) + " -> " + std::to_string(c.n);
}

// f(dtype, in_by_out, inputs) for every dtype, both layouts and every case, traced.
template <typename F>
void for_each_product_case(const c10::Device& gpu, F&& f) {
  for (at::ScalarType dtype : testing::fused_dtypes()) {
    for (bool in_by_out : {true, false}) {
      for (const ProductCase& c : product_cases()) {
        SCOPED_TRACE(product_trace(dtype, in_by_out, c));
        f(dtype, in_by_out, product_inputs(c, in_by_out, dtype, gpu));
      }
    }
  }
}

TEST_F(DecodeProductGpu, LayerNormThenProductBiasAndGeluMatchFloat64) {
  for_each_product_case(gpu, [&](at::ScalarType dtype, bool in_by_out, const ProductInputs& in) {
    ProductSteps s;
    s.norm = ProductSteps::Norm::layer;
    s.norm_weight = in.norm_weight;
    s.norm_bias = in.norm_bias;
    s.eps = 1e-5;
    s.bias = in.bias;
    s.gelu = true;
    expect_product_close(kernels->product(in.x, in.weight, in_by_out, s), product_want(in, in_by_out, s), dtype);
    s.gelu = false;
    s.bias = at::Tensor();
    s.norm_bias = at::Tensor();  // a LayerNorm without its shift, and no bias after
    ProductInputs unshifted = in;
    unshifted.norm_bias = at::zeros_like(in.norm_bias);
    expect_product_close(kernels->product(in.x, in.weight, in_by_out, s), product_want(unshifted, in_by_out, s),
                         dtype);
  });
}

TEST_F(DecodeProductGpu, RmsNormThenProductMatchesFloat64) {
  for_each_product_case(gpu, [&](at::ScalarType dtype, bool in_by_out, const ProductInputs& in) {
    ProductSteps s;
    s.norm = ProductSteps::Norm::rms;
    s.norm_weight = in.norm_weight;
    s.eps = 1e-6;
    expect_product_close(kernels->product(in.x, in.weight, in_by_out, s), product_want(in, in_by_out, s), dtype);
  });
}

// The product added into the residual in place, with a bias and without; the residual is what
// comes back, and x is left as it was.
TEST_F(DecodeProductGpu, ProductAddsIntoTheResidualInPlace) {
  for_each_product_case(gpu, [&](at::ScalarType dtype, bool in_by_out, const ProductInputs& in) {
    const at::Tensor x_before = in.x.clone();
    for (bool with_bias : {true, false}) {
      ProductSteps s;
      if (with_bias) s.bias = in.bias;
      s.residual = in.residual.clone();
      const at::Tensor want = product_want(in, in_by_out, s);
      const at::Tensor got = kernels->product(in.x, in.weight, in_by_out, s);
      EXPECT_TRUE(got.is_same(s.residual)) << "the residual itself comes back";
      expect_product_close(s.residual, want, dtype);
    }
    EXPECT_TRUE(at::equal(in.x, x_before));
  });
}

// The verifier's faults reach the kernel: Gemma's 1 + gain in the RMSNorm, a bias taken twice
// before GELU, a projection added into the stream without its bias.
TEST_F(DecodeProductGpu, TheVerifiersFaultsChangeWhatTheKernelComputes) {
  const at::ScalarType dtype = at::kFloat;
  const ProductCase c{2, 768, 768};
  for (bool in_by_out : {true, false}) {
    SCOPED_TRACE(in_by_out ? "(k, n)" : "(n, k)");
    const ProductInputs in = product_inputs(c, in_by_out, dtype, gpu);
    ProductSteps rms;
    rms.norm = ProductSteps::Norm::rms;
    rms.norm_weight = in.norm_weight;
    rms.eps = 1e-6;
    ProductSteps gelu;
    gelu.bias = in.bias;
    gelu.gelu = true;
    ProductSteps into;
    into.bias = in.bias;
    into.residual = in.residual.clone();
    {
      const fused::KernelFaultScope fault(fused::KernelFault::norm_gain_offset);
      expect_product_close(kernels->product(in.x, in.weight, in_by_out, rms), product_want(in, in_by_out, rms, 1.0),
                        dtype);
    }
    {
      const fused::KernelFaultScope fault(fused::KernelFault::gelu_bias_doubled);
      expect_product_close(kernels->product(in.x, in.weight, in_by_out, gelu),
                        product_want(in, in_by_out, gelu, 0.0, 2.0), dtype);
    }
    {
      const fused::KernelFaultScope fault(fused::KernelFault::residual_bias_dropped);
      kernels->product(in.x, in.weight, in_by_out, into);
      ProductSteps unbiased = into;
      unbiased.bias = at::Tensor();
      expect_product_close(into.residual, product_want(in, in_by_out, unbiased), dtype);
    }
  }
}

TEST_F(DecodeProductGpu, RefusesWhatItCannotTake) {
  const at::ScalarType dtype = at::kBFloat16;
  const at::Tensor x = fused_random({2, 12}, 1, dtype, gpu), w = fused_random({16, 12}, 2, dtype, gpu);
  EXPECT_FALSE(kernels->product_supports(12, 16, false, false)) << "inputs not a multiple of 8";
  EXPECT_THROW(kernels->product(x, w, false, {}), c10::Error);
  EXPECT_FALSE(kernels->product_supports(16, 12, false, true)) << "(k, n) outputs not a multiple of 8";
  EXPECT_TRUE(kernels->product_supports(16, 12, false, false)) << "(n, k) takes any rows";
  EXPECT_FALSE(kernels->product_supports(16384, 64, true, false)) << "a norm of more values than shared memory holds";
  EXPECT_TRUE(kernels->product_supports(16384, 64, false, false));
  const at::Tensor x16 = fused_random({2, 16}, 3, dtype, gpu);
  EXPECT_THROW(kernels->product(x16, fused_random({16, 24}, 4, dtype, gpu), false, {}), c10::Error)
      << "a weight (n, k) whose k is not x's";
  ProductSteps self;
  self.residual = x16;
  EXPECT_THROW(kernels->product(x16, fused_random({16, 16}, 5, dtype, gpu), false, self), c10::Error)
      << "a product added into its own input";
}

}  // namespace
}  // namespace mlspeed
