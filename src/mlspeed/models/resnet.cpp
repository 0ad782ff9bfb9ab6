#include "mlspeed/models/resnet.h"

#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/options/batchnorm.h>
#include <torch/nn/options/conv.h>

#include <string>

#include "mlspeed/fused/batch_norm.h"

namespace mlspeed::resnet {
namespace {

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false));
}

// PyTorch's output size of a convolution or pooling window (floor rounding).
int64_t out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  return (in + 2 * padding - kernel) / stride + 1;
}

void check_config(const ResNetConfig& config) {
  TORCH_CHECK(config.layers.size() == 4, "[ResNet] needs 4 stages, got ", config.layers.size());
  for (int64_t n : config.layers) TORCH_CHECK(n >= 1, "[ResNet] every stage needs at least one block");
  TORCH_CHECK(config.width >= 1 && config.num_classes >= 1, "[ResNet] width and num_classes must be positive");
}

bool needs_downsample(int64_t inplanes, int64_t planes, int64_t stride) {
  return stride != 1 || inplanes != planes * kExpansion;
}

}  // namespace

BottleneckImpl::BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride)
    : conv1(register_module("conv1", conv(inplanes, planes, 1, 1, 0))),
      conv2(register_module("conv2", conv(planes, planes, 3, stride, 1))),
      conv3(register_module("conv3", conv(planes, planes * kExpansion, 1, 1, 0))),
      bn1(register_module("bn1", torch::nn::BatchNorm2d(planes))),
      bn2(register_module("bn2", torch::nn::BatchNorm2d(planes))),
      bn3(register_module("bn3", torch::nn::BatchNorm2d(planes * kExpansion))) {
  if (needs_downsample(inplanes, planes, stride)) {
    torch::nn::Sequential branch;
    branch->push_back(conv(inplanes, planes * kExpansion, 1, stride, 0));  // downsample.0
    branch->push_back(torch::nn::BatchNorm2d(planes * kExpansion));      // downsample.1
    downsample = register_module("downsample", branch);
  }
}

// Each norm with the ReLU (and bn3 with the shortcut's add) after it: mlspeed's fused kernels in
// a channels-last training step on CUDA (fused/batch_norm.h), LibTorch's ops elsewhere.
at::Tensor BottleneckImpl::forward(const at::Tensor& x) {
  at::Tensor out = fused::batch_norm(conv1(x), {}, *bn1, /*relu=*/true);
  out = fused::batch_norm(conv2(out), {}, *bn2, /*relu=*/true);
  return fused::batch_norm(conv3(out), downsample ? downsample->forward(x) : x, *bn3, /*relu=*/true);
}

ResNetImpl::ResNetImpl(const ResNetConfig& config) : config_(config) {
  check_config(config);
  conv1 = register_module("conv1", conv(3, config.width, 7, 2, 3));
  bn1 = register_module("bn1", torch::nn::BatchNorm2d(config.width));
  int64_t inplanes = config.width;
  torch::nn::Sequential* stages[4] = {&layer1, &layer2, &layer3, &layer4};
  for (size_t i = 0; i < 4; ++i) {
    const int64_t planes = config.width << i;
    torch::nn::Sequential stage;
    std::vector<Bottleneck> typed;
    for (int64_t b = 0; b < config.layers[i]; ++b) {
      const int64_t stride = (i > 0 && b == 0) ? 2 : 1;
      typed.push_back(Bottleneck(inplanes, planes, stride));
      stage->push_back(typed.back());  // named "0", "1", ... as nn.Sequential
      inplanes = planes * kExpansion;
    }
    *stages[i] = register_module("layer" + std::to_string(i + 1), stage);
    blocks_.push_back(std::move(typed));
  }
  fc = register_module("fc", mlspeed::nn::Linear(inplanes, config.num_classes));

  // torchvision's ResNet.__init__ (zero_init_residual=False). BatchNorm2d already starts at
  // weight 1, bias 0; the Linear keeps its default initialisation.
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false))
    if (auto* c = module->as<torch::nn::Conv2d>())
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
}

at::Tensor ResNetImpl::forward(const at::Tensor& images) {
  at::Tensor x = fused::batch_norm(conv1(images), {}, *bn1, /*relu=*/true);
  x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  for (auto& stage : blocks_)
    for (auto& block : stage) x = block->forward(x);
  x = at::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
  return fc(x);
}

void to_channels_last(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
}

int64_t num_params(const ResNetImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

int64_t count_params(const ResNetConfig& config) {
  check_config(config);
  const auto bn = [](int64_t channels) { return 2 * channels; };  // weight, bias
  int64_t n = 3 * config.width * 7 * 7 + bn(config.width);
  int64_t inplanes = config.width;
  for (size_t i = 0; i < 4; ++i) {
    const int64_t planes = config.width << i, out = planes * kExpansion;
    for (int64_t b = 0; b < config.layers[i]; ++b) {
      const int64_t stride = (i > 0 && b == 0) ? 2 : 1;
      n += inplanes * planes + bn(planes);     // conv1, bn1
      n += planes * planes * 9 + bn(planes);   // conv2, bn2
      n += planes * out + bn(out);             // conv3, bn3
      if (needs_downsample(inplanes, planes, stride)) n += inplanes * out + bn(out);
      inplanes = out;
    }
  }
  return n + inplanes * config.num_classes + config.num_classes;  // fc
}

int64_t count_buffer_elements(const ResNetConfig& config) {
  // A running mean and a running variance per BatchNorm channel.
  check_config(config);
  int64_t channels = config.width;
  int64_t inplanes = config.width;
  for (size_t i = 0; i < 4; ++i) {
    const int64_t planes = config.width << i, out = planes * kExpansion;
    for (int64_t b = 0; b < config.layers[i]; ++b) {
      const int64_t stride = (i > 0 && b == 0) ? 2 : 1;
      channels += 2 * planes + out + (needs_downsample(inplanes, planes, stride) ? out : 0);
      inplanes = out;
    }
  }
  return 2 * channels;
}

std::vector<ConvLayer> conv_layers(const ResNetConfig& config, int64_t height, int64_t width) {
  check_config(config);
  std::vector<ConvLayer> convs;
  int64_t h = out_size(height, 7, 2, 3), w = out_size(width, 7, 2, 3);
  convs.push_back({3, config.width, 7, 2, h, w});
  h = out_size(h, 3, 2, 1), w = out_size(w, 3, 2, 1);  // maxpool
  int64_t inplanes = config.width;
  for (size_t i = 0; i < 4; ++i) {
    const int64_t planes = config.width << i, out = planes * kExpansion;
    for (int64_t b = 0; b < config.layers[i]; ++b) {
      const int64_t stride = (i > 0 && b == 0) ? 2 : 1;
      const int64_t h2 = out_size(h, 3, stride, 1), w2 = out_size(w, 3, stride, 1);
      convs.push_back({inplanes, planes, 1, 1, h, w});
      convs.push_back({planes, planes, 3, stride, h2, w2});
      convs.push_back({planes, out, 1, 1, h2, w2});
      if (needs_downsample(inplanes, planes, stride))
        convs.push_back({inplanes, out, 1, stride, out_size(h, 1, stride, 0), out_size(w, 1, stride, 0)});
      h = h2, w = w2, inplanes = out;
    }
  }
  return convs;
}

double forward_flops_per_image(const ResNetConfig& config, int64_t height, int64_t width) {
  double macs = 0;
  for (const ConvLayer& c : conv_layers(config, height, width))
    macs += double(c.in_channels) * c.kernel * c.kernel * c.out_channels * c.out_h * c.out_w;
  macs += double(config.width << 3) * kExpansion * config.num_classes;  // fc
  return 2 * macs;
}

double training_flops_per_image(const ResNetConfig& config, int64_t height, int64_t width) {
  return 3 * forward_flops_per_image(config, height, width);
}

int64_t conv_output_elements(const ResNetConfig& config, int64_t height, int64_t width) {
  int64_t n = 0;
  for (const ConvLayer& c : conv_layers(config, height, width)) n += c.out_channels * c.out_h * c.out_w;
  return n;
}

}  // namespace mlspeed::resnet
