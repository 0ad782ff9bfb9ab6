// The GPT-2 vocabulary reader (encoder.json + vocab.bpe) on arbitrary files. The input is cut
// at the first two 0x1E bytes (ASCII record separator) into encoder.json, vocab.bpe and a text.
// A vocabulary it accepts must encode the text into ids that decode back to the same bytes, as
// the header promises for any byte string.
#include <cstdint>

#include "fuzz_support.h"
#include "mlspeed/text/gpt2_bpe.h"

using namespace mlspeed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split(data, size, '\x1e', 3);
  const std::string dir = fuzz::temp_dir();
  fuzz::write_file(dir + "/encoder.json", parts[0]);
  fuzz::write_file(dir + "/vocab.bpe", parts.size() > 1 ? parts[1] : std::string_view());
  const std::string_view text = parts.size() > 2 ? parts[2] : std::string_view("The rain in Spain");
  fuzz::expecting_input_file_errors([&] {
    const text::Gpt2Bpe bpe = text::Gpt2Bpe::from_directory(dir);
    MLSPEED_FUZZ_CHECK(bpe.vocab_size() >= 256);
    const std::vector<int64_t> ids = bpe.encode(text);
    for (int64_t id : ids) MLSPEED_FUZZ_CHECK(bpe.has_id(id));
    MLSPEED_FUZZ_CHECK(bpe.decode_bytes(ids) == text);
    MLSPEED_FUZZ_CHECK(bpe.decode(ids) == text::utf8_replace_invalid(text));
  });
  return 0;
}
