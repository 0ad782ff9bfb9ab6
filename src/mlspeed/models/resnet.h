// ResNet (He et al. 2015) as torchvision.models.ResNet with Bottleneck blocks (ResNet-50 v1.5:
// the stride of a downsampling block sits on its 3x3 conv, as torchvision does):
//
//   image (B,3,H,W) -> conv1 7x7/2 -> bn1 -> relu -> maxpool 3x3/2
//     -> layer1 .. layer4: blocks[i] Bottlenecks each, planes width * 2^i, stride 1, 2, 2, 2
//          out = relu(bn3(conv3 1x1(relu(bn2(conv2 3x3/s(relu(bn1(conv1 1x1(x)))))))) + downsample(x))
//          (conv3 widens to 4 * planes; downsample = 1x1/s conv + BN on a block's first block
//          when the stride or the width changes, else the identity)
//     -> adaptive avgpool 1x1 -> flatten -> fc (4 * 8 * width -> num_classes) -> logits
//
// Parameter and buffer names are torchvision's, so a torchvision state dict loads by name:
//   conv1.weight, bn1.{weight,bias,running_mean,running_var,num_batches_tracked},
//   layerL.N.conv{1,2,3}.weight, layerL.N.bn{1,2,3}.*, layerL.0.downsample.0.weight,
//   layerL.0.downsample.1.*, fc.{weight,bias}
//
// Memory format: the session converts the conv weights to channels-last (NHWC) and feeds
// channels-last images, the fast layout of cuDNN's tensor-core and oneDNN convolutions. The
// names and shapes do not change; a checkpoint saved from it is written in the usual NCHW order.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "mlspeed/models/linear.h"

namespace mlspeed::resnet {

// Defaults are torchvision's resnet50(num_classes=1000).
struct ResNetConfig {
  std::vector<int64_t> layers = {3, 4, 6, 3};  // Bottleneck blocks per stage (4 stages)
  int64_t width = 64;                          // channels of conv1 and the planes of layer1
  int64_t num_classes = 1000;
};

constexpr int64_t kExpansion = 4;  // Bottleneck widens its planes by 4 on conv3

class BottleneckImpl : public torch::nn::Module {
 public:
  // inplanes -> planes (1x1) -> planes (3x3, stride) -> 4 * planes (1x1), with a downsample
  // branch when stride != 1 or inplanes != 4 * planes.
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // null for the identity
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public torch::nn::Module {
 public:
  // Builds the model and initialises it as torchvision's ResNet.__init__: kaiming_normal_
  // (fan_out, relu) conv weights, BatchNorm weight 1 and bias 0, fc as nn.Linear's default
  // (uniform within 1/sqrt(fan_in)). Draws from the global generator.
  explicit ResNetImpl(const ResNetConfig& config);
  // images: float (B, 3, H, W), any memory format -> logits (B, num_classes).
  at::Tensor forward(const at::Tensor& images);

  const ResNetConfig& config() const { return config_; }
  // The Bottlenecks of stage `i` (0..3, torchvision's layer{i+1}), typed.
  const std::vector<Bottleneck>& blocks(size_t i) const { return blocks_.at(i); }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  torch::nn::Sequential layer1{nullptr}, layer2{nullptr}, layer3{nullptr}, layer4{nullptr};
  mlspeed::nn::Linear fc{nullptr};

 private:
  ResNetConfig config_;
  std::vector<std::vector<Bottleneck>> blocks_;
};
TORCH_MODULE(ResNet);

// Converts every 4-d parameter (the conv weights) to channels-last in place, keeping the
// tensors' identity (set_data), so an optimizer built afterwards sees NHWC tensors and their
// gradients follow (autograd gives a gradient its parameter's strides).
void to_channels_last(torch::nn::Module& model);

// Parameters as torchvision counts them (sum of p.numel() over parameters(); BatchNorm running
// statistics are buffers and not counted). ResNet-50: 25,557,032 with 1000 classes,
// 23,712,932 with 100, 23,714,981 with 101.
int64_t num_params(const ResNetImpl& model);
int64_t count_params(const ResNetConfig& config);
// Elements of the BatchNorm buffers (running mean and variance; num_batches_tracked aside).
int64_t count_buffer_elements(const ResNetConfig& config);

// One convolution of the network at a given input resolution, in forward order.
struct ConvLayer {
  int64_t in_channels, out_channels, kernel, stride, out_h, out_w;
};
// Every convolution (conv1, then each block's conv1, conv2, conv3 and downsample) for an input
// of H x W, with its output size ((in + 2 pad - kernel) / stride + 1, as PyTorch rounds).
std::vector<ConvLayer> conv_layers(const ResNetConfig& config, int64_t height, int64_t width);

// Forward FLOPs of one H x W image: 2 multiply-adds' worth per MAC of
//   every conv:  2 * in_channels * kernel^2 * out_channels * out_h * out_w
//   the fc:      2 * 4 * 8 * width * num_classes
// BatchNorm, ReLU, pooling and the residual additions (a few per output element, < 1% at
// 224x224) are not counted, as in the usual "ResNet-50 = 4.1 GMACs" (8.2 GFLOPs at 224x224,
// 1000 classes). Training FLOPs = 3 x forward (the backward computes the gradients of both the
// inputs and the weights, each about as costly as the forward).
double forward_flops_per_image(const ResNetConfig& config, int64_t height, int64_t width);
double training_flops_per_image(const ResNetConfig& config, int64_t height, int64_t width);

// Elements of every conv output for one image: what a training step keeps for backward at the
// least (each BatchNorm saves its input, the conv's output), for memory lower bounds.
int64_t conv_output_elements(const ResNetConfig& config, int64_t height, int64_t width);

}  // namespace mlspeed::resnet
