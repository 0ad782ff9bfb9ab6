// torch::nn::Linear with the forward torch.nn.Linear has. The C++ frontend's F::linear handles
// an input of more than two dimensions as a matrix product followed by an in-place bias add:
// two kernels where at::linear (what torch.nn.Linear calls) runs one GEMM with the bias in its
// epilogue. Under autocast the separate add also mixes the bf16 product with the fp32 bias in an
// unvectorised kernel: on an H200, DistilBERT's training step at b128 spent 11.6 of its 37 ms
// there (mlspeed run --profile), and PyTorch's own DistilBERT none.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

namespace mlspeed::nn {

class LinearImpl : public torch::nn::LinearImpl {
 public:
  using torch::nn::LinearImpl::LinearImpl;
  at::Tensor forward(const at::Tensor& input) { return at::linear(input, weight, bias); }
};
TORCH_MODULE(Linear);

}  // namespace mlspeed::nn
