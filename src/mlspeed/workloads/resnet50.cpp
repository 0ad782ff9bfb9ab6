#include "mlspeed/workloads/resnet50.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/utils.h>

#include <stdexcept>
#include <utility>

#include "mlspeed/data/transfer.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/train/autocast.h"
#include "mlspeed/train/step.h"

namespace mlspeed {
namespace resnet {
namespace {

ResNet build_model(const ResNetConfig& config, uint64_t seed) {
  torch::manual_seed(seed);
  return ResNet(config);  // on the CPU: identical weights on every device
}

// The spatial size of layer4's output: BatchNorm in training needs more than one value per
// channel there, so batch 1 at 32x32 (layer4 is 1x1) cannot train, in PyTorch either.
int64_t last_feature_pixels(const ResNetConfig& config, int64_t side) {
  const ConvLayer last = conv_layers(config, side, side).back();
  return last.out_h * last.out_w;
}

}  // namespace

ResNetConfig workload_config(const std::string& size, int64_t num_classes) {
  if (size == "full") return ResNetConfig{{3, 4, 6, 3}, 64, num_classes};  // torchvision resnet50
  if (size == "tiny") return ResNetConfig{{1, 1, 1, 1}, 8, num_classes};
  throw std::invalid_argument("[resnet50] unknown size '" + size + "'");
}

TrainingSession::TrainingSession(std::string workload, const ResNetConfig& config, int64_t image_side,
                                 const c10::Device& device, Precision precision, uint64_t seed,
                                 std::shared_ptr<const data::Cifar100> data)
    : workload_(std::move(workload)),
      image_side_(image_side),
      device_(device),
      seed_(seed),
      autocast_dtype_(train::supported_autocast_dtype(precision, device, workload_.c_str())),
      model_(build_model(config, seed)),
      data_(std::move(data)) {
  TORCH_CHECK(!data_ || (image_side == data::Cifar100::kImageSide &&
                         config.num_classes == data::Cifar100::kFineClasses),
              "[", workload_, "] CIFAR-100 data needs 32x32 images and 100 classes");
  model_->to(device);
  to_channels_last(*model_);
  model_->train();
  params_ = model_->parameters();
  // torch.optim.Adam == AdamW without weight decay. The fused kernel where LibTorch has it for
  // the device (CUDA >= 2.0, CPU >= 2.4), the _foreach_ implementation elsewhere.
  optimizer_ = std::make_unique<train::AdamW>(std::vector<train::ParamGroup>{{params_, 0.0}},
                                              train::AdamWOptions{kLearningRate, kBeta1, kBeta2, kEps});
  if (scales_loss(precision)) scaler_.emplace(device);
}

void TrainingSession::prepare(const Shape& shape) {
  const ResNetConfig& config = model_->config();
  TORCH_CHECK(shape.batch >= 1 && shape.batch * last_feature_pixels(config, image_side_) > 1, "[", workload_,
              "] BatchNorm cannot train on one value per channel: at ", image_side_, "x", image_side_,
              " layer4 is 1x1, so the batch must be at least 2 (got ", shape.batch, ")");
  batch_ = shape.batch;
  last_loss_ = at::Tensor();
  if (data_) {
    cursor_ = 0;
    x_ = at::Tensor(), y_ = at::Tensor();
    return;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed_);
  const at::Tensor images = at::rand({shape.batch, 3, image_side_, image_side_}, generator, at::kFloat);
  const at::Tensor labels = at::randint(config.num_classes, {shape.batch}, generator, at::kLong);
  x_ = images.to(device_).contiguous(at::MemoryFormat::ChannelsLast);
  y_ = labels.to(device_);
}

void TrainingSession::load_next_batch() {
  at::Tensor records = data_->records_from(cursor_, batch_);
  cursor_ = (cursor_ + batch_) % data_->size();
  records = data::upload(records, device_);
  // Decoded on the device: the uint8 records are a quarter of the float images' bytes.
  const data::ImageBatch batch = data::decode(records);
  x_ = batch.images;
  y_ = batch.labels;
}

at::Tensor TrainingSession::forward() {
  TORCH_CHECK(x_.defined(), "[", workload_, "] forward() before prepare()");
  std::optional<train::AutocastGuard> autocast;
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return model_->forward(x_);
}

at::Tensor TrainingSession::forward_loss() {
  // Only the forward runs under autocast; backward follows the dtypes it recorded.
  std::optional<train::AutocastGuard> autocast;
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return at::cross_entropy_loss(forward(), y_);
}

void TrainingSession::step() {
  TORCH_CHECK(batch_ > 0, "[", workload_, "] step() before prepare()");
  if (data_) load_next_batch();
  optimizer_->zero_grad();
  const at::Tensor loss = forward_loss();
  train::backward_and_update(loss, params_, *optimizer_, scaler_, /*clip_norm=*/0);  // the seed's loop: no clipping
  last_loss_ = loss.detach();
}

std::string TrainingSession::data_description() const {
  return data_ ? data_->description() : "synthetic";
}

}  // namespace resnet

namespace {

struct Task {
  const char* name;
  const char* description;
  int64_t image_side;
  int64_t num_classes;
  std::vector<int64_t> full_batches;
  bool reads_cifar100;
};

class ResNet50Training : public Workload {
 public:
  explicit ResNet50Training(Task task) : task_(std::move(task)) {
    for (const char* size : {"tiny", "full"}) {
      const resnet::ResNetConfig c = resnet::workload_config(size, task_.num_classes);
      WorkloadSize s;
      s.name = size;
      const std::string side = std::to_string(task_.image_side);
      s.summary = (s.name == "full" ? "ResNet-50, " : "ResNet, ") + std::string("bottlenecks ") + blocks(c) +
                  ", width " + std::to_string(c.width) + ", " + std::to_string(c.num_classes) + " classes, " +
                  side + "x" + side + "x3";
      s.parameters = resnet::count_params(c);  // torchvision's count: parameters, not BN buffers
      s.batches = s.name == "full" ? task_.full_batches : std::vector<int64_t>{4};
      sizes_.push_back(std::move(s));
    }
  }

  std::string name() const override { return task_.name; }
  std::string description() const override { return task_.description; }
  Job job() const override { return Job::train; }
  std::string item_unit() const override { return "images"; }
  const std::vector<WorkloadSize>& sizes() const override { return sizes_; }
  double items_per_step(const Shape& shape) const override { return double(shape.batch); }

  // 3 x the forward's 2 x multiply-adds of every conv and the fc (see models/resnet.h).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    (void)shape;
    return resnet::training_flops_per_image(config(size), task_.image_side, task_.image_side);
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, Precision precision,
                                const OpenOptions& options) const override {
    std::shared_ptr<const data::Cifar100> data;
    if (!options.data.empty()) {
      TORCH_CHECK(task_.reads_cifar100, "[", task_.name, "] reads no data set");
      data = std::make_shared<const data::Cifar100>(options.data);  // InputFileError if malformed
    }
    auto session = std::make_unique<resnet::TrainingSession>(task_.name, config(size), task_.image_side, device,
                                                             precision, options.seed, std::move(data));
    // torchvision's state dict names, as they are.
    // Checkpoints saved before PyTorch 0.4.1 have no BatchNorm step counters.
    if (!options.weights.empty())
      load_weights(session->model(), options.weights, WeightsOptions{{}, {}, "", {}, {".num_batches_tracked"}});
    return session;
  }

  // Weights, gradients and the two Adam moments in float32, plus the BatchNorm statistics;
  // per step at least every conv output (each BatchNorm keeps its input for backward) in the
  // autocast dtype, and the input images.
  std::optional<MemoryEstimate> memory_estimate(const std::string& size, const Shape& shape,
                                                Precision precision) const override {
    const resnet::ResNetConfig c = config(size);
    const int64_t activation_bytes = bytes_per_element(precision);
    const int64_t side = task_.image_side;
    MemoryEstimate e;
    e.model = 4 * (4 * resnet::count_params(c) + resnet::count_buffer_elements(c));
    e.per_step = shape.batch * (resnet::conv_output_elements(c, side, side) * activation_bytes + 3 * side * side * 4);
    return e;
  }

  std::string data_format() const override {
    if (!task_.reads_cifar100) return {};
    return "CIFAR-100 binary version: the cifar-100-binary folder (its train.bin) or a .bin file of 3074-byte "
           "records (coarse label, fine label, 32x32 RGB planes)";
  }

 private:
  resnet::ResNetConfig config(const std::string& size) const {
    return resnet::workload_config(size, task_.num_classes);
  }
  static std::string blocks(const resnet::ResNetConfig& c) {
    std::string s = "[";
    for (size_t i = 0; i < c.layers.size(); ++i) s += (i ? "," : "") + std::to_string(c.layers[i]);
    return s + "]";
  }

  Task task_;
  std::vector<WorkloadSize> sizes_;
};

}  // namespace

// The seed's sweep for CIFAR-100 is 16 .. 1024 in powers of two; three of them by default.
std::unique_ptr<Workload> make_resnet50_cifar100() {
  return std::make_unique<ResNet50Training>(
      Task{"resnet50-cifar100", "ResNet-50 on CIFAR-100 (32x32): one Adam training step (mac-ml-speed-test)", 32, 100,
           {32, 128, 512}, true});
}

std::unique_ptr<Workload> make_resnet50_food101() {
  return std::make_unique<ResNet50Training>(
      Task{"resnet50-food101", "ResNet-50 on Food-101 (224x224): one Adam training step (mac-ml-speed-test)", 224, 101,
           {32, 64, 128}, false});
}

}  // namespace mlspeed
