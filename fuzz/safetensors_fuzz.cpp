// The safetensors reader on arbitrary files: mlspeed::safetensors::File maps and validates a
// path, so each input is written to a file first. A file it accepts must keep its promises:
// every tensor inside the data buffer, its byte count its shape times its dtype's size, no two
// tensors overlapping, and every tensor readable.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "fuzz_support.h"
#include "mlspeed/io/safetensors.h"

using namespace mlspeed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::temp_dir() + "/model.safetensors";
  fuzz::write_file(path, std::string_view(reinterpret_cast<const char*>(data), size));
  fuzz::expecting_input_file_errors([&] {
    const safetensors::File file(path);
    // Accepted: the header length fits the file.
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
    MLSPEED_FUZZ_CHECK(size >= 8 && header_len <= size - 8);
    const uint64_t data_size = size - 8 - header_len;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& info : file.tensors()) {
      MLSPEED_FUZZ_CHECK(info.begin <= info.end && info.end <= data_size);
      MLSPEED_FUZZ_CHECK(file.find(info.name) != nullptr);
      const at::Tensor t = file.tensor(info.name);
      MLSPEED_FUZZ_CHECK(t.sizes().vec() == info.shape);
      MLSPEED_FUZZ_CHECK(static_cast<uint64_t>(t.nbytes()) == info.end - info.begin);
      // Every byte of the tensor read, and compared with the input at the same place.
      if (t.nbytes() > 0) {
        const auto* bytes = static_cast<const uint8_t*>(t.data_ptr());
        const uint8_t* expected = data + 8 + header_len + info.begin;
        MLSPEED_FUZZ_CHECK(std::equal(bytes, bytes + t.nbytes(), expected));
        ranges.emplace_back(info.begin, info.end);
      }
    }
    std::sort(ranges.begin(), ranges.end());
    for (size_t i = 1; i < ranges.size(); ++i) MLSPEED_FUZZ_CHECK(ranges[i].first >= ranges[i - 1].second);
    (void)file.metadata();
  });
  return 0;
}
