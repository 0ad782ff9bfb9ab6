// The IMDB aclImdb reader on arbitrary folders, and the tokenizers the two IMDB workloads run on
// what it reads. The input is cut at 0x1E bytes (ASCII record separator) into at most 9 parts:
// the first is aclImdb/vocab.txt (not written when empty), the others reviews, alternately
// train/neg/<i>_1.txt and train/pos/<i>_8.txt. A folder it accepts holds valid UTF-8 reviews
// with the right labels, and both the word index (small-transformer-imdb) and, when vocab.txt
// is a WordPiece vocabulary, WordPiece (distilbert-imdb) tokenise every review.
#include <cstdint>

#include "fuzz_support.h"
#include "mlspeed/data/imdb.h"
#include "mlspeed/text/utf8.h"
#include "mlspeed/text/word_index.h"
#include "mlspeed/text/wordpiece.h"

using namespace mlspeed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split(data, size, '\x1e', 9);
  const std::string root = fuzz::temp_dir() + "/aclImdb";
  remove_tree(root);
  MLSPEED_FUZZ_CHECK(make_directories(root + "/train/pos").empty() && make_directories(root + "/train/neg").empty());
  const bool with_vocab = !parts[0].empty();
  if (with_vocab) fuzz::write_file(root + "/vocab.txt", parts[0]);
  int64_t negatives = 0, positives = 0;
  for (size_t i = 1; i < parts.size(); ++i) {
    const bool positive = i % 2 == 0;
    (positive ? positives : negatives) += 1;
    fuzz::write_file(root + (positive ? "/train/pos/" : "/train/neg/") + std::to_string(i) +
                         (positive ? "_8.txt" : "_1.txt"),
                     parts[i]);
  }
  fuzz::expecting_input_file_errors([&] {
    const imdb::TrainSet set = imdb::read_train_set(root);
    MLSPEED_FUZZ_CHECK(set.negatives == negatives && set.positives == positives);
    MLSPEED_FUZZ_CHECK(static_cast<int64_t>(set.reviews.size()) == negatives + positives);
    std::vector<std::string> texts;
    for (size_t i = 0; i < set.reviews.size(); ++i) {
      MLSPEED_FUZZ_CHECK(set.reviews[i].label == (static_cast<int64_t>(i) < negatives ? 0 : 1));
      MLSPEED_FUZZ_CHECK(!utf8::invalid_offset(set.reviews[i].text));
      texts.push_back(set.reviews[i].text);
    }
    // small-transformer-imdb: a word index built from the reviews (a small cap, so that some
    // words are out of the vocabulary).
    const text::WordIndex index = text::WordIndex::build(texts, 8);
    for (const std::string& t : texts)
      for (int32_t id : index.encode(t)) MLSPEED_FUZZ_CHECK(id >= 1 && id < index.size());
    // distilbert-imdb: WordPiece from vocab.txt beside the reviews.
    const std::string vocab_file = imdb::find_beside(set, "vocab.txt");
    MLSPEED_FUZZ_CHECK(vocab_file.empty() != with_vocab);
    if (!with_vocab) return;
    const text::WordPiece vocab = text::WordPiece::from_file(vocab_file);
    for (const std::string& t : texts)
      for (int32_t id : vocab.encode(t, 512)) MLSPEED_FUZZ_CHECK(id >= 0 && id < vocab.size());
  });
  return 0;
}
