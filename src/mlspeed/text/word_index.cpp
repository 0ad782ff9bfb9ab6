#include "mlspeed/text/word_index.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace mlspeed::text {
namespace {

bool is_ascii_punctuation(char c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}
bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

std::vector<std::string> standardize_and_split(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (is_ascii_space(c)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else if (!is_ascii_punctuation(c)) {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

WordIndex WordIndex::build(const std::vector<std::string>& texts, int64_t max_tokens) {
  if (max_tokens < 2) throw std::invalid_argument("a word index needs room for padding and OOV (max_tokens >= 2)");
  std::unordered_map<std::string, int64_t> counts;
  for (const std::string& text : texts)
    for (std::string& w : standardize_and_split(text)) ++counts[std::move(w)];
  std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(), counts.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  const size_t kept = std::min(ranked.size(), static_cast<size_t>(max_tokens - 2));
  WordIndex index;
  index.words_ = {"", "[UNK]"};
  for (size_t i = 0; i < kept; ++i) index.words_.push_back(std::move(ranked[i].first));
  for (size_t i = 2; i < index.words_.size(); ++i) index.ids_.emplace(index.words_[i], static_cast<int32_t>(i));
  return index;
}

int32_t WordIndex::id(const std::string& word) const {
  auto it = ids_.find(word);
  return it == ids_.end() ? kOutOfVocabulary : it->second;
}

std::vector<int32_t> WordIndex::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const std::string& w : standardize_and_split(text)) ids.push_back(id(w));
  return ids;
}

}  // namespace mlspeed::text
