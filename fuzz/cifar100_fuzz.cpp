// The CIFAR-100 binary reader on arbitrary files, given as the file itself or as the
// cifar-100-binary folder holding it as train.bin (chosen by the first byte's lowest bit). A
// file it accepts is whole 3074-byte records with labels in range, and decodes into a batch.
#include <cstdint>

#include "fuzz_support.h"
#include "mlspeed/data/cifar100.h"

using namespace mlspeed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string folder = fuzz::temp_dir() + "/cifar-100-binary";
  static const bool made = make_directories(folder).empty();
  MLSPEED_FUZZ_CHECK(made);
  const std::string file = folder + "/train.bin";
  fuzz::write_file(file, std::string_view(reinterpret_cast<const char*>(data), size));
  const bool as_folder = size > 0 && (data[0] & 1);
  fuzz::expecting_input_file_errors([&] {
    const data::Cifar100 set(as_folder ? folder : file);
    constexpr int64_t kRecord = data::Cifar100::kRecordBytes;
    MLSPEED_FUZZ_CHECK(size > 0 && size % kRecord == 0);
    MLSPEED_FUZZ_CHECK(set.size() == static_cast<int64_t>(size) / kRecord);
    for (int64_t i = 0; i < set.size(); ++i) {
      MLSPEED_FUZZ_CHECK(data[i * kRecord] < data::Cifar100::kCoarseClasses);
      MLSPEED_FUZZ_CHECK(data[i * kRecord + 1] < data::Cifar100::kFineClasses);
    }
    // A batch that wraps around the end of the file, decoded as the workload does.
    const at::Tensor records = set.records_from(set.size() - 1, 3);
    const data::ImageBatch batch = data::decode(records);
    MLSPEED_FUZZ_CHECK(batch.images.size(0) == 3 && batch.labels.size(0) == 3);
    MLSPEED_FUZZ_CHECK(batch.labels.min().item<int64_t>() >= 0 &&
                       batch.labels.max().item<int64_t>() < data::Cifar100::kFineClasses);
    (void)set.description();
  });
  return 0;
}
