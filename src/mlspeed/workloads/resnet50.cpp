#include "mlspeed/workloads/resnet50.h"

#include <ATen/CPUGeneratorImpl.h>

#include <utility>

#include "mlspeed/data/transfer.h"
#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/model_setup.h"
#include "mlspeed/workloads/workload_base.h"

namespace mlspeed {
namespace resnet {
namespace {

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
  throw_unknown_size("resnet50", size);
}

TrainingSession::TrainingSession(std::string workload, const ResNetConfig& config, int64_t image_side,
                                 const c10::Device& device, Precision precision, uint64_t seed,
                                 std::shared_ptr<const data::Cifar100> data)
    : TrainingSessionBase(std::move(workload), device, precision, seed),
      image_side_(image_side),
      model_(build_on_cpu<ResNet>(config, seed)),
      data_(std::move(data)) {
  TORCH_CHECK(!data_ || (image_side == data::Cifar100::kImageSide &&
                         config.num_classes == data::Cifar100::kFineClasses),
              "[", this->workload(), "] CIFAR-100 data needs 32x32 images and 100 classes");
  model_->to(device);
  to_channels_last(*model_);
  model_->train();
  const std::vector<at::Tensor> params = model_->parameters();
  // torch.optim.Adam == AdamW without weight decay; the seed's loop does not clip.
  start_training(params, {{params, 0.0}}, kAdamW, /*clip_norm=*/0);
}

void TrainingSession::prepare_inputs(const Shape& shape) {
  const ResNetConfig& config = model_->config();
  TORCH_CHECK(shape.batch >= 1 && shape.batch * last_feature_pixels(config, image_side_) > 1, "[", workload(),
              "] BatchNorm cannot train on one value per channel: at ", image_side_, "x", image_side_,
              " layer4 is 1x1, so the batch must be at least 2 (got ", shape.batch, ")");
  batch_ = shape.batch;
  if (data_) {
    cursor_ = 0;
    x_ = at::Tensor(), y_ = at::Tensor();
    return;
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed());
  const at::Tensor images = at::rand({shape.batch, 3, image_side_, image_side_}, generator, at::kFloat);
  const at::Tensor labels = at::randint(config.num_classes, {shape.batch}, generator, at::kLong);
  x_ = images.to(device()).contiguous(at::MemoryFormat::ChannelsLast);
  y_ = labels.to(device());
}

void TrainingSession::load_next_batch() {
  at::Tensor records = data_->records_from(cursor_, batch_);
  cursor_ = (cursor_ + batch_) % data_->size();
  records = data::upload(records, device());
  // Decoded on the device: the uint8 records are a quarter of the float images' bytes.
  const data::ImageBatch batch = data::decode(records);
  x_ = batch.images;
  y_ = batch.labels;
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
  // The tiny size's batch, which verify's model checks train. At 32x32 the last stage is 1x1, so its
  // BatchNorms normalise `batch` values a channel; at 4 the loss curve is chaotic: weights perturbed
  // by 2^-18 of themselves moved the fp32 curve by up to 5x its tolerance within 20 steps (seeds 0..5,
  // CPU), and a healthy H100 failed `verify --quick` at seed 0; at 16, 0.38x.
  int64_t tiny_batch;
};

std::string blocks(const resnet::ResNetConfig& c) {
  std::string s = "[";
  for (size_t i = 0; i < c.layers.size(); ++i) s += (i ? "," : "") + std::to_string(c.layers[i]);
  return s + "]";
}

WorkloadFacts facts_of(const Task& task) {
  WorkloadFacts f{task.name, task.description, Job::train, "images"};
  if (task.reads_cifar100)
    f.data_format =
        "CIFAR-100 binary version: the cifar-100-binary folder (its train.bin) or a .bin file of 3074-byte "
        "records (coarse label, fine label, 32x32 RGB planes)";
  return f;
}

ModelFacts resnet50_facts(const Task& task, const std::string& size) {
  const resnet::ResNetConfig c = resnet::workload_config(size, task.num_classes);
  const std::string side = std::to_string(task.image_side);
  return {(size == "full" ? "ResNet-50, " : "ResNet, ") + std::string("bottlenecks ") + blocks(c) + ", width " +
              std::to_string(c.width) + ", " + std::to_string(c.num_classes) + " classes, " + side + "x" + side + "x3",
          resnet::count_params(c)};  // torchvision's count: parameters, not BN buffers
}

class ResNet50Training : public WorkloadBase {
 public:
  explicit ResNet50Training(Task task)
      : WorkloadBase(facts_of(task), {{"tiny", {task.tiny_batch}}, {"full", task.full_batches}},
                     [&task](const std::string& size) { return resnet50_facts(task, size); }),
        task_(std::move(task)) {}

  double items_per_step(const Shape& shape) const override { return double(shape.batch); }

  // 3 x the forward's 2 x multiply-adds of every conv and the fc (see models/resnet.h).
  double flops_per_item(const std::string& size, const Shape& shape) const override {
    (void)shape;
    return resnet::training_flops_per_image(config(size), task_.image_side, task_.image_side);
  }

  std::unique_ptr<Session> open(const std::string& size, const c10::Device& device, const Numerics& numerics,
                                const OpenOptions& options) const override {
    const Precision precision = numerics.precision;
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
                                                const Numerics& numerics) const override {
    const Precision precision = numerics.precision;
    const resnet::ResNetConfig c = config(size);
    const int64_t side = task_.image_side;
    MemoryEstimate e;
    e.model = 4 * (4 * resnet::count_params(c) + resnet::count_buffer_elements(c));
    e.per_step = shape.batch * (resnet::conv_output_elements(c, side, side) * bytes_per_element(precision) +
                                3 * side * side * 4);
    return e;
  }

 private:
  resnet::ResNetConfig config(const std::string& size) const {
    return resnet::workload_config(size, task_.num_classes);
  }

  Task task_;
};

}  // namespace

// The seed's sweep for CIFAR-100 is 16 .. 1024 in powers of two; three of them by default.
std::unique_ptr<Workload> make_resnet50_cifar100() {
  return std::make_unique<ResNet50Training>(
      Task{"resnet50-cifar100", "ResNet-50 on CIFAR-100 (32x32): one Adam training step (mac-ml-speed-test)", 32, 100,
           {32, 128, 512}, true, 16});
}

std::unique_ptr<Workload> make_resnet50_food101() {
  return std::make_unique<ResNet50Training>(
      Task{"resnet50-food101", "ResNet-50 on Food-101 (224x224): one Adam training step (mac-ml-speed-test)", 224, 101,
           {32, 64, 128}, false, 4});
}

}  // namespace mlspeed
