// The IMDB movie-review training set (Maas et al. 2011) as the aclImdb_v1.tar.gz archive unpacks:
//
//   aclImdb/train/pos/<id>_<rating>.txt   12,500 positive reviews (label 1)
//   aclImdb/train/neg/<id>_<rating>.txt   12,500 negative reviews (label 0)
//
// one review per file, UTF-8, with HTML line breaks ("<br />") in the text. The text workloads
// read it once when they open, tokenise every review once (as Hugging Face's dataset.map does
// before training), and then serve batches of token ids in an order shuffled from the seed.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mlspeed::imdb {

// What `--data` takes, in words (for data_format() and error messages).
std::string format_description();

struct Review {
  std::string text;   // UTF-8, every "<br />" replaced by a space
  int64_t label = 0;  // 1 positive, 0 negative
};

struct TrainSet {
  std::string root;             // the aclImdb folder (the parent of the train folder)
  std::string train_folder;     // the folder holding pos/ and neg/
  std::vector<Review> reviews;  // the negative reviews, then the positive ones, each in file-name order
  int64_t positives = 0;
  int64_t negatives = 0;
};

// Reads every review under `path`: the aclImdb folder or its train folder. Throws
// InputFileError naming the folder or file when the path is missing, the layout is not
// aclImdb's, a label folder holds no .txt file, a file cannot be read, or a review is not valid
// UTF-8 (with the byte offset).
TrainSet read_train_set(const std::string& path);

// "<br />" (and "<br/>", "<br>") replaced by a space: the reviews' only markup.
std::string replace_line_breaks(const std::string& text);

// The file of `root` or of `train_folder` called `name`, whichever exists (in that order);
// empty when neither does. Where the workloads look for a tokenizer's vocabulary.
std::string find_beside(const TrainSet& set, const std::string& name);

// Reviews already turned into token ids, served a batch at a time in an order drawn from the
// seed (one permutation, repeated epoch after epoch).
class TokenizedReviews {
 public:
  TokenizedReviews() = default;
  TokenizedReviews(std::vector<std::vector<int32_t>> ids, std::vector<int64_t> labels, uint64_t seed);

  bool empty() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }
  // Back to the first batch (each configuration starts from the same reviews).
  void rewind() { cursor_ = 0; }
  // The indices of the next `batch` reviews, wrapping around at the end of the set.
  std::vector<size_t> next_batch(int64_t batch);

  const std::vector<int32_t>& ids(size_t i) const { return ids_.at(i); }
  int64_t label(size_t i) const { return labels_.at(i); }
  // How many reviews have more than `length` ids (for the data description).
  int64_t longer_than(size_t length) const;

 private:
  std::vector<std::vector<int32_t>> ids_;
  std::vector<int64_t> labels_;
  std::vector<size_t> order_;
  size_t cursor_ = 0;
};

}  // namespace mlspeed::imdb
