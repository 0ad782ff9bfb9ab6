// For tests: a miniature aclImdb folder, laid out as aclImdb_v1.tar.gz unpacks, with a WordPiece
// vocab.txt that covers its words.
#pragma once

#include <string>
#include <vector>

#include "mlspeed/core/files.h"
#include "testing/test_support.h"

namespace mlspeed::imdb::fixture {

struct File {
  const char* name;
  const char* text;
};

inline const std::vector<File>& positive_reviews() {
  static const std::vector<File> files = {
      {"0_9.txt", "A wonderful film.<br /><br />I loved it!"},
      {"1_10.txt", "Unwanted running? No: a great, great movie."},
      {"2_8.txt", "Loved it"},
  };
  return files;
}

inline const std::vector<File>& negative_reviews() {
  static const std::vector<File> files = {
      {"0_2.txt", "A terrible film. I hated it!"},
      {"1_1.txt",
       "Boring<br />and too long long long long long long long long long long long long long long long long long "
       "long long long long long long long long long long long long long long long long long long long long long "
       "long long long long long long long long long long long long long long long long long long long long long "
       "long long long long long long long long long long."},
      {"2_3.txt", "Caf\xC3\xA9 food was better."},
  };
  return files;
}

inline const std::vector<std::string>& vocabulary() {
  static const std::vector<std::string> tokens = {
      "[PAD]", "[UNK]",    "[CLS]",  "[SEP]",  "a",    "wonderful", "film", ".",    "!",    "i",     "loved",
      "it",    "un",       "##want", "##ed",   "runn", "##ing",     "?",    "no",   ":",    "great", ",",
      "movie", "terrible", "hated",  "boring", "and",  "too",       "long", "cafe", "food", "was",   "better"};
  return tokens;
}

// Writes <dir>/aclImdb with train/pos, train/neg (and a file beside them that is not a review),
// plus vocab.txt in aclImdb unless `with_vocab` is false. Returns the aclImdb path.
inline std::string write_aclimdb(const std::string& dir, bool with_vocab = true) {
  const std::string root = dir + "/aclImdb";
  make_directories(root + "/train/pos");
  make_directories(root + "/train/neg");
  make_directories(root + "/train/unsup");
  for (const File& f : positive_reviews()) testing::write_file(root + "/train/pos/" + f.name, f.text);
  for (const File& f : negative_reviews()) testing::write_file(root + "/train/neg/" + f.name, f.text);
  testing::write_file(root + "/train/unsup/0_0.txt", "unlabelled, never read");
  testing::write_file(root + "/train/pos/README", "not a review");
  testing::write_file(root + "/train/urls_pos.txt", "http://www.imdb.com/title/tt0000000/usercomments\n");
  if (with_vocab) {
    std::string lines;
    for (const std::string& t : vocabulary()) lines += t + "\n";
    testing::write_file(root + "/vocab.txt", lines);
  }
  return root;
}

}  // namespace mlspeed::imdb::fixture
