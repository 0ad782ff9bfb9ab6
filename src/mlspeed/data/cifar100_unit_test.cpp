#include "mlspeed/data/cifar100.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlspeed/core/errors.h"
#include "testing/test_support.h"

namespace mlspeed::data {
namespace {

using testing::TempDir;
using testing::write_file;

struct Record {
  uint8_t coarse = 0;
  uint8_t fine = 0;
  uint8_t fill = 0;  // every pixel byte
};

// Records in the real format: coarse, fine, then 3072 pixel bytes.
std::string records(const std::vector<Record>& rs) {
  std::string bytes;
  for (const Record& r : rs) {
    bytes.push_back(static_cast<char>(r.coarse));
    bytes.push_back(static_cast<char>(r.fine));
    bytes.append(Cifar100::kPixelBytes, static_cast<char>(r.fill));
  }
  return bytes;
}

// The pixel byte of (channel, row, column) in record `index` of a file's bytes.
char& pixel(std::string& bytes, int64_t index, int64_t channel, int64_t row, int64_t column) {
  return bytes[index * Cifar100::kRecordBytes + 2 + channel * 1024 + row * 32 + column];
}

std::string cifar100_error(const std::string& path) {
  try {
    Cifar100 data(path);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Cifar100, ReadsLabelsAndPixelsWhereTheFormatPutsThem) {
  TempDir dir;
  std::string bytes = records({{3, 7, 0}, {19, 99, 10}, {0, 42, 255}});
  pixel(bytes, 1, 1, 5, 9) = static_cast<char>(200);  // green, row 5, column 9 of image 1
  pixel(bytes, 2, 0, 31, 31) = 0;                      // red, last pixel of image 2
  write_file(dir.file("train.bin"), bytes);

  const Cifar100 data(dir.file("train.bin"));
  EXPECT_EQ(data.size(), 3);
  EXPECT_EQ(data.file(), dir.file("train.bin"));
  EXPECT_EQ(data.description(), "CIFAR-100 train.bin (3 images)");
  const ImageBatch batch = decode(data.records_from(0, 3));
  EXPECT_EQ(batch.labels.sizes().vec(), std::vector<int64_t>{3});
  EXPECT_EQ(batch.labels.scalar_type(), at::kLong);
  EXPECT_EQ(batch.labels[0].item<int64_t>(), 7);  // the fine label, not the coarse one
  EXPECT_EQ(batch.labels[1].item<int64_t>(), 99);
  EXPECT_EQ(batch.labels[2].item<int64_t>(), 42);

  const at::Tensor& images = batch.images;
  EXPECT_EQ(images.sizes().vec(), (std::vector<int64_t>{3, 3, 32, 32}));
  EXPECT_EQ(images.scalar_type(), at::kFloat);
  EXPECT_TRUE(images.is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_EQ(images[1][1][5][9].item<float>(), 200.0f / 255.0f);
  EXPECT_EQ(images[1][1][5][8].item<float>(), 10.0f / 255.0f);
  EXPECT_EQ(images[1][0][5][9].item<float>(), 10.0f / 255.0f);
  EXPECT_EQ(images[2][0][31][31].item<float>(), 0.0f);
  EXPECT_EQ(images[2][2][31][31].item<float>(), 1.0f);
  EXPECT_EQ(images[0].max().item<float>(), 0.0f);
}

TEST(Cifar100, AFolderMeansItsTrainBin) {
  TempDir dir;
  write_file(dir.file("train.bin"), records({{1, 2, 3}, {4, 5, 6}}));
  write_file(dir.file("test.bin"), records({{1, 2, 3}}));
  const Cifar100 data(dir.path());
  EXPECT_EQ(data.file(), dir.file("train.bin"));
  EXPECT_EQ(data.size(), 2);
  const Cifar100 slash(dir.path() + "/");
  EXPECT_EQ(slash.size(), 2);
}

TEST(Cifar100, BatchesWrapAroundTheEnd) {
  TempDir dir;
  write_file(dir.file("d.bin"), records({{0, 0, 0}, {0, 1, 1}, {0, 2, 2}}));
  const Cifar100 data(dir.file("d.bin"));
  const auto fine = [](const at::Tensor& r) {
    std::vector<int64_t> v;
    for (int64_t i = 0; i < r.size(0); ++i) v.push_back(r[i][1].item<int64_t>());
    return v;
  };
  EXPECT_EQ(fine(data.records_from(1, 2)), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(fine(data.records_from(2, 3)), (std::vector<int64_t>{2, 0, 1}));
  EXPECT_EQ(fine(data.records_from(0, 7)), (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(fine(data.records_from(4, 1)), (std::vector<int64_t>{1}));
  // A batch inside the file is a view of it, not a copy.
  EXPECT_EQ(data.records_from(1, 2).data_ptr(), data.records()[1].data_ptr());
}

TEST(Cifar100, ATruncatedFileSaysWhereThePartialRecordStarts) {
  TempDir dir;
  const std::string file = dir.file("train.bin");
  write_file(file, records({{0, 0, 0}, {0, 0, 0}}) + std::string(100, '\0'));
  const std::string message = cifar100_error(file);
  EXPECT_NE(message.find(file), std::string::npos) << message;
  EXPECT_NE(message.find("6248 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("partial record of 100 bytes at byte offset 6148"), std::string::npos) << message;
}

TEST(Cifar100, AnEmptyFileIsRefused) {
  TempDir dir;
  write_file(dir.file("train.bin"), "");
  const std::string message = cifar100_error(dir.file("train.bin"));
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
}

TEST(Cifar100, AnOutOfRangeLabelNamesTheRecordAndByteOffset) {
  TempDir dir;
  const std::string file = dir.file("train.bin");
  write_file(file, records({{0, 0, 0}, {0, 99, 0}, {19, 100, 0}}));
  std::string message = cifar100_error(file);
  EXPECT_NE(message.find(file), std::string::npos) << message;
  EXPECT_NE(message.find("record 2 (byte offset 6149)"), std::string::npos) << message;
  EXPECT_NE(message.find("fine label 100"), std::string::npos) << message;

  write_file(file, records({{0, 0, 0}, {20, 5, 0}}));
  message = cifar100_error(file);
  EXPECT_NE(message.find("record 1 (byte offset 3074)"), std::string::npos) << message;
  EXPECT_NE(message.find("coarse label 20"), std::string::npos) << message;
}

TEST(Cifar100, MissingFilesAreNamed) {
  TempDir dir;
  const std::string missing = dir.file("nothing.bin");
  EXPECT_NE(cifar100_error(missing).find(missing + ": no such file"), std::string::npos) << cifar100_error(missing);
  // A folder that is not cifar-100-binary.
  const std::string message = cifar100_error(dir.path());
  EXPECT_NE(message.find("without train.bin"), std::string::npos) << message;
}

}  // namespace
}  // namespace mlspeed::data
