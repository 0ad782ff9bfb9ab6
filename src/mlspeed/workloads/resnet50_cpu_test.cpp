#include "mlspeed/workloads/resnet50.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/io/weights.h"
#include "testing/test_support.h"
#include "testing/catalogue.h"

namespace mlspeed {
namespace {

using testing::kCpu;

const Workload& cifar() { return testing::catalogue_workload("resnet50-cifar100"); }
const Workload& food() { return testing::catalogue_workload("resnet50-food101"); }

resnet::TrainingSession& as_resnet_training(Session& session) { return dynamic_cast<resnet::TrainingSession&>(session); }

TEST(ResNet50Workloads, DescribeThemselves) {
  struct Expected {
    const Workload& w;
    int64_t parameters;
    std::vector<int64_t> batches;
  };
  for (const Expected& e : {Expected{cifar(), 23'712'932, {32, 128, 512}}, Expected{food(), 23'714'981, {32, 64, 128}}}) {
    EXPECT_EQ(e.w.job(), Job::train);
    EXPECT_EQ(e.w.item_unit(), "images");
    const WorkloadSize* full = find_size(e.w, "full");
    ASSERT_NE(full, nullptr);
    EXPECT_EQ(full->parameters, e.parameters) << e.w.name();
    EXPECT_EQ(full->batches, e.batches) << e.w.name();
    EXPECT_TRUE(full->seqs.empty());
    EXPECT_TRUE(full->new_tokens.empty());
    ASSERT_NE(find_size(e.w, "tiny"), nullptr);
    EXPECT_EQ(e.w.items_per_step(Shape{64}), 64.0);
    EXPECT_EQ(e.w.shapes(*full, {}).size(), e.batches.size());
  }
  EXPECT_NE(find_size(cifar(), "full")->summary.find("32x32x3"), std::string::npos);
  EXPECT_NE(find_size(food(), "full")->summary.find("224x224x3"), std::string::npos);
  EXPECT_FALSE(cifar().data_format().empty());
  EXPECT_TRUE(food().data_format().empty());
  // SPEC.md's table order: the two ResNet-50 workloads first.
  ASSERT_GE(workload_names().size(), 2u);
  EXPECT_EQ(workload_names()[0], "resnet50-cifar100");
  EXPECT_EQ(workload_names()[1], "resnet50-food101");
}

TEST(ResNet50Workloads, EverySizeCountsItsBuiltModel) {
  for (const Workload* w : {&cifar(), &food()}) {
    for (const WorkloadSize& size : w->sizes()) {
      if (size.name == "full" && w == &food()) continue;  // the same build as cifar's but one class
      auto session = w->open(size.name, kCpu, Precision::fp32, {1});
      EXPECT_EQ(resnet::num_params(*as_resnet_training(*session).net()), size.parameters) << w->name() << " " << size.name;
    }
  }
}

TEST(ResNet50Workloads, TrainingFlopsPerImage) {
  // 3 x 2 x MACs: 83,615,744 MACs at 32x32 with 100 classes; 4,087,343,104 at 224x224 with 101
  // (torchvision's 4,089,184,256 for 1000 classes less 2048 x 899 in the fc).
  EXPECT_DOUBLE_EQ(cifar().flops_per_item("full", Shape{32}), 6.0 * 83'615'744);
  EXPECT_DOUBLE_EQ(food().flops_per_item("full", Shape{32}), 6.0 * (4'089'184'256 - 2048 * 899));
  EXPECT_LT(cifar().flops_per_item("tiny", Shape{4}), cifar().flops_per_item("full", Shape{4}) / 100);
}

TEST(ResNet50Workloads, MemoryEstimateIsALowerBound) {
  const auto full = cifar().memory_estimate("full", Shape{128}, Precision::fp32);
  ASSERT_TRUE(full);
  // float32 weights, gradients and two Adam moments; 2 x 26,560 BatchNorm statistics.
  EXPECT_EQ(full->model, 16 * 23'712'932 + 4 * 2 * 26'560);
  EXPECT_GT(full->per_step, 0);
  const auto half = cifar().memory_estimate("full", Shape{128}, Precision::bf16);
  const auto smaller = cifar().memory_estimate("full", Shape{64}, Precision::fp32);
  EXPECT_LT(half->per_step, full->per_step);
  EXPECT_EQ(2 * smaller->per_step, full->per_step);  // linear in the batch
  // 11,113,984 conv outputs per 224x224 image: 5.3 GiB at batch 128 in float32 (PyTorch needs
  // several times that), plus the images.
  EXPECT_EQ(food().memory_estimate("full", Shape{128}, Precision::fp32)->per_step,
            int64_t{128} * (11'113'984 * 4 + 3 * 224 * 224 * 4));
}

TEST(ResNet50Workloads, UnknownSizeAndBadShapesAreRefused) {
  EXPECT_THROW(cifar().open("huge", kCpu, Precision::fp32, {1}), std::invalid_argument);
  auto session = cifar().open("tiny", kCpu, Precision::fp32, {1});
  EXPECT_THROW(session->step(), c10::Error);  // not prepared
  try {
    session->prepare(Shape{1});  // layer4 is 1x1 at 32x32: BatchNorm needs two values
    ADD_FAILURE() << "batch 1 was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("at least 2"), std::string::npos) << e.what();
  }
  session->prepare(Shape{2});
  session->step();
  EXPECT_TRUE(std::isfinite(as_resnet_training(*session).last_loss().item<float>()));
}

TEST(ResNet50Workloads, InputsAndConvWeightsAreChannelsLast) {
  for (const Workload* w : {&cifar(), &food()}) {
    auto session = w->open("tiny", kCpu, Precision::fp32, {1});
    auto& training = as_resnet_training(*session);
    session->prepare(Shape{2});
    const int64_t side = w == &cifar() ? 32 : 224;
    EXPECT_EQ(training.images().sizes().vec(), (std::vector<int64_t>{2, 3, side, side}));
    EXPECT_TRUE(training.images().is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_GE(training.images().min().item<float>(), 0.0f);
    EXPECT_LT(training.images().max().item<float>(), 1.0f);
    EXPECT_LT(training.labels().max().item<int64_t>(), w == &cifar() ? 100 : 101);
    session->step();
    for (const auto& p : session->model().parameters()) {
      if (p.dim() != 4) continue;
      EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast));
      EXPECT_TRUE(p.grad().is_contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
}

TEST(ResNet50Workloads, SameSeedSameFirstLoss) {
  std::vector<float> losses;
  for (uint64_t seed : {5, 5, 6}) {
    auto session = cifar().open("tiny", kCpu, Precision::fp32, {seed});
    session->prepare(Shape{4});
    session->step();
    losses.push_back(as_resnet_training(*session).last_loss().item<float>());
  }
  EXPECT_EQ(losses[0], losses[1]);
  EXPECT_NE(losses[0], losses[2]);
}

// The overfit-one-batch check: the whole step (autocast, loss, backward, Adam) has to drive the
// loss on one fixed batch from chance (ln 100 = 4.6) to well below it.
void expect_resnet_overfits_one_batch(Precision precision) {
  auto session = cifar().open("tiny", kCpu, precision, {3});
  session->prepare(Shape{8});
  auto& training = as_resnet_training(*session);
  session->step();
  const float first = training.last_loss().item<float>();
  EXPECT_NEAR(first, std::log(100.0f), 1.0f);
  std::string curve = std::to_string(first);
  for (int i = 1; i <= 20; ++i) {
    session->step();
    if (i % 5 == 0) curve += " " + std::to_string(training.last_loss().item<float>());
  }
  EXPECT_LT(training.last_loss().item<float>(), 0.5f) << "loss every 5 steps: " << curve;
}

TEST(ResNet50Workloads, OverfitsOneBatchInFloat32) { expect_resnet_overfits_one_batch(Precision::fp32); }

TEST(ResNet50Workloads, OverfitsOneBatchUnderBFloat16Autocast) {
  if (!compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16)) GTEST_SKIP() << "no CPU bf16 autocast";
  expect_resnet_overfits_one_batch(Precision::bf16);
}

TEST(ResNet50Workloads, SessionStepsInEveryCpuPrecision) {
  for (Precision precision : kAllPrecisions) {
    const bool autocast = precision == Precision::fp16 || precision == Precision::bf16;
    const at::ScalarType dtype = precision == Precision::fp16 ? at::kHalf : at::kBFloat16;
    if (autocast && !compat::autocast_supports(c10::DeviceType::CPU, dtype)) {
      EXPECT_THROW(cifar().open("tiny", kCpu, precision, {1}), c10::Error) << name(precision);
      continue;
    }
    auto session = cifar().open("tiny", kCpu, precision, {1});
    auto& training = as_resnet_training(*session);
    session->prepare(Shape{4});
    const at::Tensor before = training.net()->fc->weight.detach().clone();
    // fp16's loss scale starts at 2^16 and halves after each step whose gradients overflow, and
    // such steps change no weight (GradScaler): allow it to back off first.
    int steps = 0;
    do {
      session->step();
      ++steps;
    } while (precision == Precision::fp16 && steps < 30 && training.net()->fc->weight.equal(before));
    if (precision != Precision::fp16) EXPECT_EQ(steps, 1);
    EXPECT_TRUE(std::isfinite(training.last_loss().item<float>())) << name(precision);
    EXPECT_FALSE(training.net()->fc->weight.equal(before)) << name(precision);
    EXPECT_EQ(training.net()->fc->weight.scalar_type(), at::kFloat) << name(precision);  // autocast keeps fp32
    EXPECT_EQ(training.net()->bn1->num_batches_tracked.item<int64_t>(), steps) << name(precision);
  }
}

TEST(ResNet50Workloads, TorchvisionNamedWeightsLoadAsTheyAre) {
  testing::TempDir dir;
  const std::string file = dir.file("resnet.safetensors");
  auto a = cifar().open("tiny", kCpu, Precision::fp32, {1});
  a->prepare(Shape{4});
  a->step();  // trained weights and BatchNorm statistics, not the initial ones
  save_weights(a->model(), file);
  auto b = cifar().open("tiny", kCpu, Precision::fp32, OpenOptions{2, file, ""});
  for (const auto& p : a->model().named_parameters())
    EXPECT_TRUE(p.value().equal(b->model().named_parameters()[p.key()])) << p.key();
  for (const auto& buffer : a->model().named_buffers())
    EXPECT_TRUE(buffer.value().equal(b->model().named_buffers()[buffer.key()])) << buffer.key();
  auto& na = as_resnet_training(*a).net();
  auto& nb = as_resnet_training(*b).net();
  na->eval(), nb->eval();
  const at::Tensor x = at::rand({2, 3, 32, 32}).contiguous(at::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(na->forward(x).equal(nb->forward(x)));

  // The 100-class head does not fit the 101-class model: the error names it.
  try {
    food().open("tiny", kCpu, Precision::fp32, OpenOptions{1, file, ""});
    ADD_FAILURE() << "a 100-class checkpoint loaded into the 101-class model";
  } catch (const InputFileError& e) {
    EXPECT_NE(std::string(e.what()).find("fc.weight"), std::string::npos) << e.what();
  }
}

std::string cifar_records(int64_t n) {
  std::string bytes;
  for (int64_t i = 0; i < n; ++i) {
    bytes.push_back(static_cast<char>(i % 20));
    bytes.push_back(static_cast<char>((7 * i) % 100));
    for (int64_t j = 0; j < data::Cifar100::kPixelBytes; ++j) bytes.push_back(static_cast<char>((i * 31 + j) % 256));
  }
  return bytes;
}

TEST(ResNet50Workloads, TrainsOnCifar100RecordsInFileOrder) {
  testing::TempDir dir;
  testing::write_file(dir.file("train.bin"), cifar_records(5));
  auto session = cifar().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", dir.path()});
  auto& training = as_resnet_training(*session);
  EXPECT_EQ(session->data_description(), "CIFAR-100 train.bin (5 images)");
  const data::Cifar100 reference(dir.file("train.bin"));
  session->prepare(Shape{2});
  for (const std::vector<int64_t>& expected : {std::vector<int64_t>{0, 1}, {2, 3}, {4, 0}, {1, 2}}) {
    session->step();
    const data::ImageBatch want = data::decode(reference.records().index_select(0, at::tensor(expected)));
    EXPECT_TRUE(training.images().equal(want.images)) << expected[0];
    EXPECT_TRUE(training.labels().equal(want.labels)) << expected[0];
    EXPECT_TRUE(training.images().is_contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_TRUE(std::isfinite(training.last_loss().item<float>()));
  }
  EXPECT_EQ(training.next_record(), 3);
  session->prepare(Shape{3});  // each configuration starts from the first record
  EXPECT_EQ(training.next_record(), 0);
  session->step();
  EXPECT_EQ(training.labels().sizes().vec(), std::vector<int64_t>{3});
  EXPECT_EQ(training.labels()[2].item<int64_t>(), 14);

  testing::write_file(dir.file("bad.bin"), cifar_records(2) + "x");
  EXPECT_THROW(cifar().open("tiny", kCpu, Precision::fp32, OpenOptions{1, "", dir.file("bad.bin")}),
               InputFileError);
}

}  // namespace
}  // namespace mlspeed
