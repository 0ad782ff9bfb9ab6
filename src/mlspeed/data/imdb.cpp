#include "mlspeed/data/imdb.h"

#include <ATen/CPUGeneratorImpl.h>
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/text/utf8.h"

namespace mlspeed::imdb {
namespace {

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

bool has_label_folders(const std::string& folder) {
  return is_directory(folder + "/pos") && is_directory(folder + "/neg");
}

// The .txt files of `folder`, by name.
std::vector<std::string> review_files(const std::string& folder) {
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) throw InputFileError(folder + ": cannot be listed (" + std::strerror(errno) + ")");
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".txt") == 0) names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  if (names.empty())
    throw InputFileError(folder + " holds no .txt review files (expected one review per file, as " +
                         "aclImdb/train/pos/0_9.txt)");
  return names;
}

std::string read_review(const std::string& file) {
  if (const std::string what = not_a_regular_file(file); !what.empty())
    throw InputFileError(file + ": " + what + ", not a review file (expected one UTF-8 text review per .txt file)");
  const auto content = read_whole_file(file);
  if (!content) throw InputFileError(file + ": cannot be read (" + std::strerror(errno) + ")");
  const std::string& text = *content;
  if (auto bad = utf8::invalid_offset(text))
    throw InputFileError(file + ": not valid UTF-8 at byte offset " + std::to_string(*bad) +
                         " (expected a UTF-8 text review, as in aclImdb_v1.tar.gz)");
  return replace_line_breaks(text);
}

void read_label(const std::string& folder, int64_t label, std::vector<Review>& out) {
  for (const std::string& name : review_files(folder)) out.push_back(Review{read_review(folder + "/" + name), label});
}

}  // namespace

std::string format_description() {
  return "IMDB reviews: the aclImdb folder (from aclImdb_v1.tar.gz) or its train folder; reads "
         "train/pos/*.txt (label 1) and train/neg/*.txt (label 0)";
}

std::string replace_line_breaks(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const char* tag : {"<br />", "<br/>", "<br>"}) {
      const size_t n = std::strlen(tag);
      if (text.compare(i, n, tag) == 0) {
        out.push_back(' ');
        i += n;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

TrainSet read_train_set(const std::string& path) {
  const std::string given = without_trailing_slashes(path);
  TrainSet set;
  if (has_label_folders(given + "/train")) {
    set.root = given;
    set.train_folder = given + "/train";
  } else if (has_label_folders(given)) {
    set.train_folder = given;
    const std::string parent = parent_directory(given);
    set.root = parent.empty() ? "." : parent;
  } else if (!path_exists(given)) {
    throw InputFileError(given + " does not exist; --data takes " + format_description());
  } else {
    throw InputFileError(given + " has neither train/pos and train/neg nor pos and neg folders; --data takes " +
                         format_description());
  }
  read_label(set.train_folder + "/neg", 0, set.reviews);
  set.negatives = static_cast<int64_t>(set.reviews.size());
  read_label(set.train_folder + "/pos", 1, set.reviews);
  set.positives = static_cast<int64_t>(set.reviews.size()) - set.negatives;
  return set;
}

std::string find_beside(const TrainSet& set, const std::string& name) {
  for (const std::string& folder : {set.root, set.train_folder}) {
    const std::string file = folder + "/" + name;
    if (path_exists(file)) return file;
  }
  return "";
}

TokenizedReviews::TokenizedReviews(std::vector<std::vector<int32_t>> ids, std::vector<int64_t> labels, uint64_t seed)
    : ids_(std::move(ids)), labels_(std::move(labels)) {
  TORCH_CHECK(ids_.size() == labels_.size(), "[imdb] ", ids_.size(), " reviews but ", labels_.size(), " labels");
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor permutation = at::randperm(static_cast<int64_t>(ids_.size()), generator, at::kLong);
  const int64_t* p = permutation.data_ptr<int64_t>();
  order_.assign(p, p + permutation.numel());
}

std::vector<size_t> TokenizedReviews::next_batch(int64_t batch) {
  TORCH_CHECK(!order_.empty(), "[imdb] no reviews to serve");
  std::vector<size_t> indices;
  indices.reserve(static_cast<size_t>(batch));
  for (int64_t i = 0; i < batch; ++i) {
    indices.push_back(order_[cursor_]);
    cursor_ = (cursor_ + 1) % order_.size();
  }
  return indices;
}

int64_t TokenizedReviews::longer_than(size_t length) const {
  return std::count_if(ids_.begin(), ids_.end(), [&](const auto& ids) { return ids.size() > length; });
}

}  // namespace mlspeed::imdb
