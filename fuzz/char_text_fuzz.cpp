// The plain-text reader (nanoGPT's shakespeare_char) on arbitrary files, with the full-size
// workload's limits (a 65-character vocabulary) and a short minimum split. A file it accepts is
// valid UTF-8 whose ids all fall inside its vocabulary, and batches can be drawn from it.
#include <ATen/CPUGeneratorImpl.h>

#include <cstdint>

#include "fuzz_support.h"
#include "mlspeed/data/char_text.h"
#include "mlspeed/text/utf8.h"

using namespace mlspeed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::temp_dir() + "/input.txt";
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  fuzz::write_file(path, bytes);
  constexpr int64_t kVocabulary = 65, kMinTrain = 9, kSeq = 8;
  fuzz::expecting_input_file_errors([&] {
    const data::CharText text = data::read_char_text(path, kVocabulary, kMinTrain);
    MLSPEED_FUZZ_CHECK(!utf8::invalid_offset(bytes));
    MLSPEED_FUZZ_CHECK(static_cast<int64_t>(text.vocabulary.size()) <= kVocabulary);
    MLSPEED_FUZZ_CHECK(text.train.numel() >= kMinTrain && text.train.numel() <= text.characters);
    const int64_t* ids = text.train.data_ptr<int64_t>();
    for (int64_t i = 0; i < text.train.numel(); ++i)
      MLSPEED_FUZZ_CHECK(ids[i] >= 0 && ids[i] < static_cast<int64_t>(text.vocabulary.size()));
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
    const auto [x, y] = data::char_batch(text, 2, kSeq, generator);
    MLSPEED_FUZZ_CHECK(x.size(0) == 2 && x.size(1) == kSeq && y.sizes() == x.sizes());
  });
  return 0;
}
