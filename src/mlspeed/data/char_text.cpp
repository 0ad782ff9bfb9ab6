#include "mlspeed/data/char_text.h"

#include <algorithm>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/text/utf8.h"

namespace mlspeed::data {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw InputFileError(path + ": " + what); }

}  // namespace

CharText read_char_text(const std::string& path, int64_t max_vocabulary, int64_t min_train) {
  if (!path_exists(path)) fail(path, "does not exist");
  if (is_directory(path)) fail(path, "is a folder; --data for this workload is one plain text file (e.g. input.txt)");
  const auto file = read_whole_file(path);
  if (!file) fail(path, "cannot be read");
  const std::string& bytes = *file;
  if (bytes.empty()) fail(path, "is empty");
  if (const auto bad = utf8::invalid_offset(bytes))
    fail(path, "is not UTF-8 text: an invalid byte sequence at offset " + std::to_string(*bad));
  const std::u32string chars = utf8::decode(bytes);

  CharText text;
  text.path = path;
  text.characters = static_cast<int64_t>(chars.size());
  text.vocabulary.assign(chars.begin(), chars.end());
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
