#include "mlspeed/data/cifar100.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"

namespace mlspeed::data {
namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The file a --data path names: the folder's train.bin, or the path itself.
std::string resolve(const std::string& path) {
  if (!is_directory(path)) {
    if (!path_exists(path))
      throw InputFileError(path + ": no such file (expected the cifar-100-binary folder or a CIFAR-100 .bin file)");
    return path;
  }
  const std::string train = (path.back() == '/' ? path : path + "/") + "train.bin";
  if (!path_exists(train))
    throw InputFileError(path + " is a folder without train.bin (expected the cifar-100-binary folder of "
                                "cifar-100-binary.tar.gz, or a CIFAR-100 .bin file)");
  return train;
}

at::Tensor read_records(const std::string& file) {
  std::FILE* in = std::fopen(file.c_str(), "rb");
  if (!in) throw InputFileError(file + ": cannot open: " + std::strerror(errno));
  int64_t bytes = -1;
  if (std::fseek(in, 0, SEEK_END) == 0) bytes = static_cast<int64_t>(std::ftell(in));
  if (bytes < 0 || std::fseek(in, 0, SEEK_SET) != 0) {
    std::fclose(in);
    throw InputFileError(file + ": cannot read its size (is it a regular file?)");
  }
  constexpr int64_t kRecord = Cifar100::kRecordBytes;
  if (bytes == 0 || bytes % kRecord != 0) {
    std::fclose(in);
    if (bytes == 0) throw InputFileError(file + ": the file is empty (expected CIFAR-100 records of 3074 bytes)");
    throw InputFileError(file + ": " + std::to_string(bytes) + " bytes is not a whole number of 3074-byte " +
                         "CIFAR-100 records: " + std::to_string(bytes / kRecord) + " whole records, then a partial " +
                         "record of " + std::to_string(bytes % kRecord) + " bytes at byte offset " +
                         std::to_string(bytes / kRecord * kRecord) + " (truncated, or not CIFAR-100?)");
  }
  at::Tensor records = at::empty({bytes / kRecord, kRecord}, at::kByte);
  const size_t got = std::fread(records.data_ptr<uint8_t>(), 1, static_cast<size_t>(bytes), in);
  std::fclose(in);
  if (got != static_cast<size_t>(bytes))
    throw InputFileError(file + ": read " + std::to_string(got) + " of " + std::to_string(bytes) + " bytes");
  return records;
}

void check_labels(const std::string& file, const at::Tensor& records) {
  const uint8_t* p = records.data_ptr<uint8_t>();
  const int64_t n = records.size(0);
  for (int64_t i = 0; i < n; ++i, p += Cifar100::kRecordBytes) {
    const auto fail = [&](const char* which, int64_t offset, int value, int64_t limit) {
      throw InputFileError(file + ": record " + std::to_string(i) + " (byte offset " + std::to_string(offset) +
                           "): " + which + " label " + std::to_string(value) + " is out of range (expected 0.." +
                           std::to_string(limit - 1) + "; is this CIFAR-10 or another format?)");
    };
    const int64_t offset = i * Cifar100::kRecordBytes;
    if (p[0] >= Cifar100::kCoarseClasses) fail("coarse", offset, p[0], Cifar100::kCoarseClasses);
    if (p[1] >= Cifar100::kFineClasses) fail("fine", offset + 1, p[1], Cifar100::kFineClasses);
  }
}

}  // namespace

Cifar100::Cifar100(const std::string& path) : file_(resolve(path)), records_(read_records(file_)) {
  check_labels(file_, records_);
}

std::string Cifar100::description() const {
  return "CIFAR-100 " + base_name(file_) + " (" + std::to_string(size()) + " images)";
}

at::Tensor Cifar100::records_from(int64_t start, int64_t count) const {
  TORCH_CHECK(count >= 1, "[CIFAR-100] a batch needs at least one record");
  const int64_t n = size();
  start %= n;
  if (start + count <= n) return records_.narrow(0, start, count);
  // Wraps around (more than once when the batch is larger than the file).
  return records_.index_select(0, at::arange(start, start + count, at::kLong).remainder_(n));
}

ImageBatch decode(const at::Tensor& records) {
  const int64_t b = records.size(0);
  const at::Tensor pixels = records.narrow(1, 2, Cifar100::kPixelBytes)
                                .view({b, Cifar100::kChannels, Cifar100::kImageSide, Cifar100::kImageSide});
  at::Tensor images = pixels.to(records.options().dtype(at::kFloat), /*non_blocking=*/false, /*copy=*/false,
                                at::MemoryFormat::ChannelsLast);
  images.div_(255);
  return {images, records.select(1, 1).to(at::kLong)};
}

}  // namespace mlspeed::data
