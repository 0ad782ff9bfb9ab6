#include "mlspeed/data/char_text.h"

#include <algorithm>
#include <fstream>
#include <iterator>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"

namespace mlspeed::data {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputFileError(path + ": " + what); }

// Decodes UTF-8 strictly (no overlongs, no surrogates, nothing past U+10FFFF).
std::vector<char32_t> decode_utf8(const std::string& bytes, const std::string& path) {
  std::vector<char32_t> out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    int extra = 0;
    char32_t cp = 0, min = 0;
    if (b0 < 0x80) cp = b0;
    else if ((b0 & 0xE0) == 0xC0) extra = 1, cp = b0 & 0x1F, min = 0x80;
    else if ((b0 & 0xF0) == 0xE0) extra = 2, cp = b0 & 0x0F, min = 0x800;
    else if ((b0 & 0xF8) == 0xF0) extra = 3, cp = b0 & 0x07, min = 0x10000;
    else fail(path, "is not UTF-8 text: byte " + std::to_string(b0) + " at offset " + std::to_string(i) +
                        " cannot start a character");
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= bytes.size()) fail(path, "is not UTF-8 text: a character cut short at offset " + std::to_string(i));
      const auto b = static_cast<unsigned char>(bytes[i + k]);
      if ((b & 0xC0) != 0x80) fail(path, "is not UTF-8 text: a bad continuation byte at offset " + std::to_string(i + k));
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      fail(path, "is not UTF-8 text: an invalid character at offset " + std::to_string(i));
    out.push_back(cp);
    i += 1 + extra;
  }
  return out;
}

}  // namespace

CharText read_char_text(const std::string& path, int64_t max_vocabulary, int64_t min_train) {
  if (!path_exists(path)) fail(path, "does not exist");
  if (is_directory(path)) fail(path, "is a folder; --data for this workload is one plain text file (e.g. input.txt)");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot be read");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) fail(path, "is empty");
  const std::vector<char32_t> chars = decode_utf8(bytes, path);

  CharText text;
  text.path = path;
  text.characters = static_cast<int64_t>(chars.size());
  text.vocabulary = chars;
  std::sort(text.vocabulary.begin(), text.vocabulary.end());
  text.vocabulary.erase(std::unique(text.vocabulary.begin(), text.vocabulary.end()), text.vocabulary.end());
  if (static_cast<int64_t>(text.vocabulary.size()) > max_vocabulary)
    fail(path, "has " + std::to_string(text.vocabulary.size()) + " distinct characters, more than the model's vocabulary of " +
                   std::to_string(max_vocabulary) + " (nanoGPT's shakespeare_char: the 65 characters of tiny Shakespeare)");

  const int64_t n_train = static_cast<int64_t>(chars.size() * 9 / 10);  // prepare.py: data[:int(n*0.9)]
  if (n_train < min_train)
    fail(path, "has " + std::to_string(chars.size()) + " characters; the training split (90%) needs at least " +
                   std::to_string(min_train) + " for this sequence length");
  text.train = at::empty({n_train}, at::kLong);
  int64_t* ids = text.train.data_ptr<int64_t>();
  for (int64_t i = 0; i < n_train; ++i)
    ids[i] = std::lower_bound(text.vocabulary.begin(), text.vocabulary.end(), chars[i]) - text.vocabulary.begin();
  return text;
}

std::pair<at::Tensor, at::Tensor> char_batch(const CharText& text, int64_t batch, int64_t seq,
                                             at::Generator& generator) {
  const int64_t n = text.train.size(0);
  TORCH_CHECK(n > seq, text.path, ": the training split of ", n, " characters is too short for sequences of ", seq);
  const at::Tensor offsets = at::randint(n - seq, {batch}, generator, at::kLong);
  // Row r is train[offsets[r] + 0 .. seq]: one gather for x and y together.
  const at::Tensor index = offsets.unsqueeze(1) + at::arange(seq + 1, at::kLong).unsqueeze(0);
  const at::Tensor rows = text.train.index_select(0, index.view(-1)).view({batch, seq + 1});
  return {rows.narrow(1, 0, seq).contiguous(), rows.narrow(1, 1, seq).contiguous()};
}

}  // namespace mlspeed::data
