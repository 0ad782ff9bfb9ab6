// The fused cross-entropy (fused/cross_entropy.h) on a CUDA device (label gpu): loss and the
// logits' gradient against float64 references, for float32, float16 and bfloat16 logits, a
// vocabulary padded with -inf columns (GPT-2's training head), rows whose target is ignored, a
// few rows and many; and LibTorch's kernels when they are asked for. Skipped without a CUDA
// device; without a CUDA compiler the kernels are not built and the tests say so.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <limits>
#include <string>
#include <vector>

#include "mlspeed/core/kernel_set.h"
#include "mlspeed/fused/cross_entropy.h"

namespace mlspeed {
namespace {

class FusedCrossEntropyGpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
    const at::Tensor probe = at::zeros({1, 8}, at::TensorOptions(at::kFloat).device(gpu));
    const bool takes = fused::fused_cross_entropy_takes(probe, at::zeros({1}, probe.options().dtype(at::kLong)));
#ifdef MLSPEED_FUSED_CUDA_KERNELS
    ASSERT_TRUE(takes) << "built with nvcc, yet the fused cross-entropy is not registered";
#else
    if (!takes) GTEST_SKIP() << "built without a CUDA compiler: the loss is LibTorch's";
#endif
  }
  const c10::Device gpu{c10::DeviceType::CUDA, 0};
};

struct Case {
  int64_t rows, vocab, padded;  // padded >= vocab: the columns after vocab hold -inf
};

// Loss and gradient of the logits in float64 on the CPU: mean over the rows whose target is not
// -100 of logsumexp - logit[target]; gradient (softmax - one-hot) / count.
std::pair<double, at::Tensor> reference(const at::Tensor& logits, const at::Tensor& targets) {
  const at::Tensor x = logits.to(at::kCPU, at::kDouble), t = targets.cpu();
  const at::Tensor counted = t.ne(-100);
  const at::Tensor safe = at::where(counted, t, at::zeros_like(t));
  const at::Tensor lse = at::logsumexp(x, 1);
  const at::Tensor row = (lse - x.gather(1, safe.unsqueeze(1)).squeeze(1)) * counted;
  const double count = counted.sum().item<double>();
  at::Tensor grad = at::softmax(x, 1) - at::one_hot(safe, x.size(1)).to(at::kDouble);
  grad = grad * counted.unsqueeze(1) / count;
  return {row.sum().item<double>() / count, grad};
}

TEST_F(FusedCrossEntropyGpu, LossAndGradientMatchTheFloat64Reference) {
  for (at::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
    for (const Case& c : {Case{3, 8, 8}, Case{5, 1000, 1024}, Case{1100, 50257, 50304}, Case{2, 64, 64}}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + " rows " + std::to_string(c.rows) + " vocab " +
                   std::to_string(c.vocab) + " padded to " + std::to_string(c.padded));
      auto random = at::make_generator<at::CPUGeneratorImpl>(c.rows + c.vocab);
      at::Tensor logits = at::randn({c.rows, c.padded}, random, at::kFloat) * 3;
      logits.narrow(1, c.vocab, c.padded - c.vocab).fill_(-std::numeric_limits<float>::infinity());
      logits = logits.to(gpu, dtype).requires_grad_(true);
      at::Tensor targets = at::randint(c.vocab, {c.rows}, random, at::kLong);
      targets[0] = -100;  // an ignored row
      if (c.rows > 2) targets[1] = c.vocab - 1;
      targets = targets.to(gpu);
      const at::Tensor loss = fused::cross_entropy(logits, targets);
      loss.backward();
      const auto [want_loss, want_grad] = reference(logits.detach(), targets);
      EXPECT_EQ(loss.scalar_type(), at::kFloat);
      EXPECT_NEAR(loss.item<double>(), want_loss, 1e-5 * std::abs(want_loss) + 1e-6);
      ASSERT_EQ(logits.grad().scalar_type(), dtype);
      const double unit = dtype == at::kFloat ? 1e-5 : dtype == at::kHalf ? 1e-3 : 8e-3;
      const at::Tensor error = (logits.grad().to(at::kCPU, at::kDouble) - want_grad).abs();
      const at::Tensor bound = want_grad.abs() * unit + 1e-7;
      EXPECT_LE((error - bound).max().item<double>(), 0.0) << "worst gradient " << error.max().item<double>();
      EXPECT_EQ(logits.grad()[0].count_nonzero().item<int64_t>(), 0) << "an ignored row has no gradient";
    }
  }
}

TEST_F(FusedCrossEntropyGpu, LibTorchsKernelsTakeTheLossWhenAsked) {
  const at::Tensor logits = at::randn({4, 16}, at::TensorOptions(at::kFloat).device(gpu));
  const at::Tensor targets = at::randint(16, {4}, logits.options().dtype(at::kLong));
  EXPECT_TRUE(fused::fused_cross_entropy_takes(logits, targets));
  const KernelSetScope libtorch(KernelSet::libtorch);
  EXPECT_FALSE(fused::fused_cross_entropy_takes(logits, targets));
  EXPECT_NEAR(fused::cross_entropy(logits, targets).item<double>(),
              at::cross_entropy_loss(logits, targets).item<double>(), 1e-6);
}

}  // namespace
}  // namespace mlspeed
