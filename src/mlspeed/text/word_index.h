// A word-level vocabulary built from the training texts, as Keras's TextVectorization builds one
// with its defaults (standardize="lower_and_strip_punctuation", split="whitespace"):
//
//   standardise: ASCII letters lower-cased (tf.strings.lower works on bytes), every ASCII
//                punctuation character !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ deleted ("don't" ->
//                "dont", "well-made" -> "wellmade"); other bytes kept as they are;
//   split:       on ASCII white space;
//   ids:         0 = padding, 1 = out of vocabulary, then the words by descending count over
//                the whole training set, ties in ascending byte order of the word (Keras 2
//                breaks ties by the word too, descending); capped at `max_tokens` ids in all.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mlspeed::text {

// The words of `text` after standardisation.
std::vector<std::string> standardize_and_split(std::string_view text);

class WordIndex {
 public:
  static constexpr int32_t kPadding = 0;
  static constexpr int32_t kOutOfVocabulary = 1;

  // Counts the words of every text; keeps the max_tokens - 2 most frequent (max_tokens >= 2).
  static WordIndex build(const std::vector<std::string>& texts, int64_t max_tokens);

  // The ids of the words of `text`, in order (unknown words -> kOutOfVocabulary).
  std::vector<int32_t> encode(std::string_view text) const;

  int64_t size() const { return static_cast<int64_t>(words_.size()); }  // padding and OOV included
  const std::string& word(int32_t id) const { return words_.at(static_cast<size_t>(id)); }
  int32_t id(const std::string& word) const;  // kOutOfVocabulary when not kept

 private:
  std::vector<std::string> words_;  // by id: "", "[UNK]", then the kept words
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace mlspeed::text
