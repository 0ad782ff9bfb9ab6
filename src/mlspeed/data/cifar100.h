// The CIFAR-100 binary distribution (https://www.cs.toronto.edu/~kriz/cifar.html,
// cifar-100-binary.tar.gz: train.bin with 50,000 images, test.bin with 10,000).
//
// A file is records of 3074 bytes and nothing else:
//   byte 0         coarse label (superclass), 0..19
//   byte 1         fine label (class), 0..99 -- what resnet50-cifar100 trains on
//   bytes 2..3073  the 32x32 image: 1024 red, then 1024 green, then 1024 blue bytes, each plane
//                  row-major (so the pixel (row r, column c) of channel k is byte 2 + 1024k + 32r + c)
//
// The whole file is read once, checked (size and every label), and kept as one uint8 tensor;
// batches are taken from it in order, wrapping around at the end.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace mlspeed::data {

class Cifar100 {
 public:
  static constexpr int64_t kImageSide = 32;
  static constexpr int64_t kChannels = 3;
  static constexpr int64_t kPixelBytes = kChannels * kImageSide * kImageSide;  // 3072
  static constexpr int64_t kRecordBytes = 2 + kPixelBytes;                    // 3074
  static constexpr int64_t kCoarseClasses = 20;
  static constexpr int64_t kFineClasses = 100;

  // `path`: the cifar-100-binary folder (its train.bin is read) or a .bin file of records.
  // Throws InputFileError naming the file for a missing or unreadable file, a size that is not
  // a non-zero multiple of 3074 bytes (with where the partial record starts) and a label out of
  // range (with the record index and byte offset).
  explicit Cifar100(const std::string& path);

  const std::string& file() const { return file_; }
  int64_t size() const { return records_.size(0); }  // images
  const at::Tensor& records() const { return records_; }  // uint8 (size(), 3074), on the CPU
  // "CIFAR-100 train.bin (50000 images)"
  std::string description() const;

  // `count` records from record `start` on, wrapping around at the end: uint8 (count, 3074), a
  // view of the loaded file when no wrap is needed.
  at::Tensor records_from(int64_t start, int64_t count) const;

 private:
  std::string file_;
  at::Tensor records_;
};

// What a batch of records trains on, on the records' device: images float (B, 3, 32, 32) in
// channels-last memory, scaled to [0, 1] by 1/255 (the seed's transforms.ToDtype(float32,
// scale=True), with no per-channel normalisation), and fine labels int64 (B).
struct ImageBatch {
  at::Tensor images;
  at::Tensor labels;
};
ImageBatch decode(const at::Tensor& records);

}  // namespace mlspeed::data
