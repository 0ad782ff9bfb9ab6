// resnet50-cifar100 and resnet50-food101 (mac-ml-speed-test): the training loop of Daniel Bourke's
// pytorch_test_computer_vision_{cifar100,food101}.py (mac-ml-speed-test), timed per step:
// torchvision.models.resnet50(num_classes=100 or 101), nn.CrossEntropyLoss, torch.optim.Adam
// (lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay), no gradient clipping, on 32x32 or
// 224x224 RGB images.
//
// Synthetic images are uniform in [0, 1) (the range of the scripts' scaled pixels); labels are
// uniform over the classes. resnet50-cifar100 can also read the real CIFAR-100 (--data, see
// data/cifar100.h): each step then takes the next batch of train.bin, in file order.
//
// The session type is public so that verification and tests can read the loss and the model;
// the runner only sees it as a Session.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/data/cifar100.h"
#include "mlspeed/models/resnet.h"
#include "mlspeed/workloads/training_session.h"

namespace mlspeed {

std::unique_ptr<Workload> make_resnet50_cifar100();
std::unique_ptr<Workload> make_resnet50_food101();

namespace resnet {

// The model of a size: "full" is ResNet-50 (torchvision's resnet50), "tiny" one Bottleneck per
// stage at width 8 (the same code paths, ~1.5e5 parameters). Throws std::invalid_argument for
// any other size.
ResNetConfig workload_config(const std::string& size, int64_t num_classes);

class TrainingSession : public TrainingSessionBase {
 public:
  // The scripts' Adam(lr=0.001), defaults otherwise.
  static constexpr train::AdamWOptions kAdamW{1e-3, 0.9, 0.999, 1e-8};  // lr, betas, eps

  // Builds the model on the CPU from the seed (the same weights for every device), moves it and
  // makes its conv weights channels-last. With `data`, every step reads its batch from it
  // (CIFAR-100: 32x32, 100 classes).
  TrainingSession(std::string workload, const ResNetConfig& config, int64_t image_side, const c10::Device& device,
                  Precision precision, uint64_t seed, std::shared_ptr<const data::Cifar100> data = nullptr);

  std::string data_description() const override;
  ResNet& net() { return model_; }
  torch::nn::Module& model() override { return *model_; }
  const at::Tensor& images() const { return x_; }  // of the last step (or prepare)
  const at::Tensor& labels() const { return y_; }
  int64_t next_record() const { return cursor_; }  // with data: where the next batch starts

 private:
  // Synthetic: images (batch, 3, side, side), channels-last, and labels, drawn on the CPU from
  // the seed and moved to the device here, never in step(). Data: rewinds to the first record.
  void prepare_inputs(const Shape& shape) override;
  std::vector<at::Tensor*> batch_tensors() override { return {&x_, &y_}; }
  bool reads_data() const override { return data_ != nullptr; }
  void load_next_batch() override;
  at::Tensor logits() override { return model_->forward(x_); }
  at::Tensor loss() override { return at::cross_entropy_loss(logits(), y_); }

  int64_t image_side_;
  ResNet model_{nullptr};
  std::shared_ptr<const data::Cifar100> data_;
  int64_t batch_ = 0;
  int64_t cursor_ = 0;
  at::Tensor x_, y_;
};

}  // namespace resnet
}  // namespace mlspeed
