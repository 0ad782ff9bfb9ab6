// The fused residual add + LayerNorm of training (fused/residual_layer_norm.h) on a CUDA device
// (label gpu): the sum, the normalised output and every gradient (the stream's, the branch's,
// gamma's and beta's; also a norm without beta) against float64, for branches in float32, float16
// and bfloat16, rows of 8 to 12,288 columns, with and without a gradient of the sum; and the
// verifier's fault in the backward kernel, set in forward's scope, reaching backward on autograd's
// CUDA thread. Skipped without a CUDA device; without a CUDA compiler the kernels are not built and
// the test says so.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <string>
#include <tuple>
#include <utility>

#include "mlspeed/fused/residual_layer_norm.h"
#include "mlspeed/verify/faults.h"

namespace mlspeed {
namespace {

at::Tensor norm_cpu64(const at::Tensor& t) { return t.to(at::kCPU, at::kDouble); }

// got within `unit` of the largest |want|, column by column of the last dimension's rows.
void expect_norm_near(const at::Tensor& got, const at::Tensor& want, double unit, const char* what) {
  const at::Tensor bound = want.abs().amax(-1, true) * unit + 1e-6;
  const at::Tensor excess = (norm_cpu64(got) - want).abs() - bound;
  EXPECT_LE(excess.max().item<double>(), 0.0) << what << ": worst at flat index " << excess.argmax().item<int64_t>();
}

TEST(ResidualLayerNormGpu, ValuesAndGradientsMatchFloat64) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device gpu(c10::DeviceType::CUDA, 0);
  const at::Tensor probe = at::zeros({1, 8}, at::TensorOptions(at::kFloat).device(gpu)), gain = at::ones({8}, probe.options());
#ifdef MLSPEED_FUSED_CUDA_KERNELS
  ASSERT_TRUE(fused::residual_layer_norm_takes(probe, probe, gain, gain)) << "built with nvcc, yet not registered";
#else
  if (!fused::residual_layer_norm_takes(probe, probe, gain, gain)) GTEST_SKIP() << "built without a CUDA compiler";
#endif
  for (at::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{3, 8}, {1100, 768}, {5, 1600}, {2, 12288}}) {
      for (bool stream_gradient : {true, false}) {
        SCOPED_TRACE(std::string(c10::toString(dtype)) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
                     (stream_gradient ? " with" : " without") + " a gradient of the sum");
        auto random = at::make_generator<at::CPUGeneratorImpl>(rows * cols);
        const auto on_gpu = [&](const at::Tensor& t, at::ScalarType type) {
          return t.to(gpu, type).requires_grad_(true);
        };
        const at::Tensor x = on_gpu(at::randn({rows, cols}, random) * 2 + 0.5, at::kFloat);
        const at::Tensor y = on_gpu(at::randn({rows, cols}, random), dtype);
        const at::Tensor gamma = on_gpu(at::randn({cols}, random) + 1, at::kFloat);
        const bool has_beta = rows != 5;  // 5 x 1600: a norm without bias, as nanoGPT's
        const at::Tensor beta = has_beta ? on_gpu(at::randn({cols}, random), at::kFloat) : at::Tensor();
        const at::Tensor d_out = at::randn({rows, cols}, random).to(dtype).to(at::kFloat);  // representable in dtype
        const at::Tensor d_sum = at::randn({rows, cols}, random);
        const auto [sum, out] = fused::residual_layer_norm(x, y, gamma, beta, 1e-5);
        ASSERT_EQ(out.scalar_type(), dtype);
        at::Tensor objective = (out.to(at::kFloat) * d_out.to(gpu)).sum();
        if (stream_gradient) objective = objective + (sum * d_sum.to(gpu)).sum();
        objective.backward();

        const at::Tensor s = norm_cpu64(x) + norm_cpu64(y), g64 = norm_cpu64(gamma);
        const at::Tensor mean = s.mean(-1, true), rstd = at::rsqrt((s - mean).pow(2).mean(-1, true) + 1e-5);
        const at::Tensor xhat = (s - mean) * rstd, dout = d_out.to(at::kDouble);
        const at::Tensor gx = dout * g64;
        at::Tensor dx = rstd * (gx - gx.mean(-1, true) - xhat * (gx * xhat).mean(-1, true));
        if (stream_gradient) dx = dx + d_sum.to(at::kDouble);
        const double unit = dtype == at::kFloat ? 1e-5 : dtype == at::kHalf ? 2e-3 : 1.6e-2;
        expect_norm_near(sum, s, 1e-6, "sum");
        expect_norm_near(out, has_beta ? xhat * g64 + norm_cpu64(beta) : xhat * g64, unit, "out");
        expect_norm_near(x.grad(), dx, 1e-4, "d_x");
        expect_norm_near(y.grad(), dx, unit, "d_y");
        expect_norm_near(gamma.grad().unsqueeze(0), (dout * xhat).sum(0, true), 1e-4, "d_gamma");
        if (has_beta) expect_norm_near(beta.grad().unsqueeze(0), dout.sum(0, true), 1e-4, "d_beta");
      }
    }
  }
}

// verify's layer-norm-backward-zero-rows, injected around the forward alone: the kernel leaves
// the norm's gradient out of every odd row (the stream's own passes) and nothing else changes.
TEST(ResidualLayerNormGpu, TheVerifiersFaultReachesTheBackwardKernel) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device gpu(c10::DeviceType::CUDA, 0);
  auto random = at::make_generator<at::CPUGeneratorImpl>(9);
  const at::Tensor x = at::randn({37, 768}, random).to(gpu).requires_grad_(true);
  const at::Tensor y = at::randn({37, 768}, random).to(gpu, at::kBFloat16);
  const at::Tensor gamma = (at::randn({768}, random) + 1).to(gpu).requires_grad_(true);
  const at::Tensor beta = at::randn({768}, random).to(gpu);
  const at::Tensor w_out = at::randn({37, 768}, random).to(gpu), w_sum = at::randn({37, 768}, random).to(gpu);
  if (!fused::residual_layer_norm_takes(x, y, gamma, beta)) GTEST_SKIP() << "built without a CUDA compiler";
  const auto grads = [&](const verify::Fault* fault) {
    at::Tensor sum, out;
    {
      const verify::Injection injection(fault);
      std::tie(sum, out) = fused::residual_layer_norm(x, y, gamma, beta, 1e-5);
    }
    for (const at::Tensor* t : {&x, &gamma})
      if (t->grad().defined()) t->mutable_grad().zero_();
    ((out.to(at::kFloat) * w_out).sum() + (sum * w_sum).sum()).backward();
    return std::pair{x.grad().cpu(), gamma.grad().cpu()};
  };
  const auto [healthy_x, healthy_gamma] = grads(nullptr);
  const auto [faulty_x, faulty_gamma] = grads(verify::find_fault("layer-norm-backward-zero-rows"));
  const at::Tensor stream = w_sum.cpu();
  for (int64_t row = 0; row < 37; ++row)
    EXPECT_TRUE(at::allclose(faulty_x[row], row % 2 == 0 ? healthy_x[row] : stream[row])) << "row " << row;
  EXPECT_FALSE(at::allclose(healthy_x[1], stream[1])) << "a healthy odd row has the norm's gradient";
  EXPECT_TRUE(at::equal(faulty_gamma, healthy_gamma)) << "the fault leaves gamma's gradient alone";
}

}  // namespace
}  // namespace mlspeed
