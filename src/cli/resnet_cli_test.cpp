// resnet50-cifar100 and resnet50-food101 through the built program at the tiny size: synthetic
// data in fp32 and bf16, the real CIFAR-100 format with --data, and torchvision-named weights.
#include <gtest/gtest.h>
#include <torch/utils.h>

#include "mlspeed/io/weights.h"
#include "mlspeed/models/resnet.h"
#include "mlspeed/results/printers.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

const std::vector<std::string> kTinyResnet = {"run", "-d", "cpu", "--sizes", "tiny", "-n", "1", "--warmup", "0",
                                        "--no-db", "-o", "jsonl"};

using testing::with;

// `n` records of CIFAR-100's binary format with in-range labels.
std::string cifar_records(int n) {
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    bytes.push_back(static_cast<char>(i % 20));
    bytes.push_back(static_cast<char>(i % 100));
    bytes.append(3072, static_cast<char>(i * 40));
  }
  return bytes;
}

TEST(ResNetCli, BothWorkloadsTrainAtTinySizeInFp32AndBf16) {
  const auto r = run_cli(with(kTinyResnet, {"-w", "resnet50-cifar100,resnet50-food101", "-t", "fp32,bf16"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 4u);  // 2 workloads x 2 dtypes x the tiny batch (16 for CIFAR's 32x32, 4 for 224x224)
  for (const auto& row : rows) {
    const int64_t batch = row.workload == "resnet50-cifar100" ? 16 : 4;
    EXPECT_EQ(row.status, Status::ok) << row.workload << " " << name(row.precision) << ": " << row.message;
    EXPECT_EQ(row.job, Job::train);
    EXPECT_EQ(row.item_unit, "images");
    EXPECT_EQ(row.batch, batch);
    EXPECT_EQ(row.items_per_step, batch);
    EXPECT_EQ(row.seq_len, 0);
    EXPECT_GT(row.flops_per_item, 0);
    EXPECT_EQ(row.samples_ms.size(), 1u);
    EXPECT_EQ(row.data, "synthetic");
    EXPECT_EQ(row.autocast, row.precision == Precision::bf16);
  }
  EXPECT_EQ(rows[0].workload, "resnet50-cifar100");
  EXPECT_EQ(rows[2].workload, "resnet50-food101");
  EXPECT_GT(rows[2].flops_per_item, 10 * rows[0].flops_per_item);  // 224x224 against 32x32
}

TEST(ResNetCli, TrainsOnACifar100BinaryFile) {
  TempDir dir;
  const std::string file = dir.file("train.bin");
  testing::write_file(file, cifar_records(3));
  const auto r = run_cli(with(kTinyResnet, {"-w", "resnet50-cifar100", "-b", "2", "--data", file}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok) << rows[0].message;
  EXPECT_EQ(rows[0].data, "CIFAR-100 train.bin (3 images)");

  // The cifar-100-binary folder works too.
  const auto folder = run_cli(with(kTinyResnet, {"-w", "resnet50-cifar100", "-b", "2", "--data", dir.path()}));
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  EXPECT_EQ(parse_results(Format::jsonl, folder.out).at(0).data, "CIFAR-100 train.bin (3 images)");
}

TEST(ResNetCli, AMalformedDataFileStopsWithStatus2AndSaysWhere) {
  TempDir dir;
  const std::string file = dir.file("train.bin");
  std::string bytes = cifar_records(3);
  bytes[2 * 3074 + 1] = static_cast<char>(150);  // the fine label of record 2
  testing::write_file(file, bytes);
  const auto r = run_cli(with(kTinyResnet, {"-w", "resnet50-cifar100", "-b", "2", "--data", file}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("byte offset 6149"), std::string::npos) << r.err;
}

TEST(ResNetCli, Food101ReadsNoDataSet) {
  TempDir dir;
  testing::write_file(dir.file("train.bin"), cifar_records(1));
  const auto r = run_cli(with(kTinyResnet, {"-w", "resnet50-food101", "--data", dir.file("train.bin")}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("resnet50-food101 reads no data set"), std::string::npos) << r.err;
}

TEST(ResNetCli, LoadsTorchvisionNamedWeights) {
  TempDir dir;
  const std::string file = dir.file("resnet.safetensors");
  torch::manual_seed(9);
  resnet::ResNet model(resnet::ResNetConfig{{1, 1, 1, 1}, 8, 100});  // the tiny size of resnet50-cifar100
  save_weights(*model, file);
  const auto r = run_cli(with(kTinyResnet, {"-w", "resnet50-cifar100", "--weights", file}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, Status::ok) << rows[0].message;
  EXPECT_EQ(rows[0].weights, file);

  // The same file does not fit the 101-class head.
  const auto wrong = run_cli(with(kTinyResnet, {"-w", "resnet50-food101", "--weights", file}));
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("fc.weight"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace mlspeed
