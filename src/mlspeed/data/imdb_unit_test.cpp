#include "mlspeed/data/imdb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "mlspeed/core/errors.h"
#include "testing/imdb_fixture.h"
#include "testing/test_support.h"

namespace mlspeed::imdb {
namespace {

using testing::TempDir;

std::string error_of(const std::string& path) {
  try {
    read_train_set(path);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Imdb, ReadsTrainPosAndNegWithLabels) {
  TempDir dir;
  const std::string root = fixture::write_aclimdb(dir.path());
  const TrainSet set = read_train_set(root);
  EXPECT_EQ(set.root, root);
  EXPECT_EQ(set.train_folder, root + "/train");
  ASSERT_EQ(set.reviews.size(), 6u);  // not unsup/, README or urls_pos.txt
  EXPECT_EQ(set.negatives, 3);
  EXPECT_EQ(set.positives, 3);
  // Negatives first, each label in file-name order.
  EXPECT_EQ(set.reviews[0].text, "A terrible film. I hated it!");
  EXPECT_EQ(set.reviews[0].label, 0);
  EXPECT_EQ(set.reviews[1].text.rfind("Boring and too long", 0), 0u);  // "<br />" replaced
  EXPECT_EQ(set.reviews[2].text, "Caf\xC3\xA9 food was better.");
  EXPECT_EQ(set.reviews[3].text, "A wonderful film.  I loved it!");
  EXPECT_EQ(set.reviews[3].label, 1);
  EXPECT_EQ(set.reviews[5].text, "Loved it");
  for (size_t i = 0; i < set.reviews.size(); ++i) EXPECT_EQ(set.reviews[i].label, i < 3 ? 0 : 1);
}

TEST(Imdb, TakesTheTrainFolderToo) {
  TempDir dir;
  const std::string root = fixture::write_aclimdb(dir.path());
  for (const std::string& path : {root + "/train", root + "/train/", root + "/"}) {
    const TrainSet set = read_train_set(path);
    EXPECT_EQ(set.reviews.size(), 6u) << path;
    EXPECT_EQ(set.train_folder, root + "/train") << path;
    EXPECT_EQ(set.root, root) << path;
  }
}

TEST(Imdb, FindsFilesBesideTheReviews) {
  TempDir dir;
  const std::string root = fixture::write_aclimdb(dir.path());
  const TrainSet set = read_train_set(root + "/train");
  EXPECT_EQ(find_beside(set, "vocab.txt"), root + "/vocab.txt");
  EXPECT_EQ(find_beside(set, "urls_pos.txt"), root + "/train/urls_pos.txt");
  EXPECT_EQ(find_beside(set, "nothing.txt"), "");
}

TEST(Imdb, ReplacesLineBreakTags) {
  EXPECT_EQ(replace_line_breaks("a<br />b<br/>c<br>d<br"), "a b c d<br");
  EXPECT_EQ(replace_line_breaks(""), "");
}

TEST(Imdb, MissingFolderIsAnError) {
  TempDir dir;
  const std::string missing = dir.file("nowhere/aclImdb");
  const std::string e = error_of(missing);
  EXPECT_NE(e.find(missing + " does not exist"), std::string::npos) << e;
  EXPECT_NE(e.find("train/pos/*.txt (label 1)"), std::string::npos) << e;
}

TEST(Imdb, WrongLayoutIsAnError) {
  TempDir dir;
  make_directories(dir.file("aclImdb/test/pos"));
  make_directories(dir.file("aclImdb/train/pos"));  // no neg
  const std::string e = error_of(dir.file("aclImdb"));
  EXPECT_NE(e.find(dir.file("aclImdb") + " has neither train/pos and train/neg nor pos and neg folders"),
            std::string::npos)
      << e;
}

TEST(Imdb, EmptyLabelFolderIsAnError) {
  TempDir dir;
  make_directories(dir.file("aclImdb/train/pos"));
  make_directories(dir.file("aclImdb/train/neg"));
  testing::write_file(dir.file("aclImdb/train/neg/0_1.txt"), "bad");
  testing::write_file(dir.file("aclImdb/train/pos/notes.md"), "not a review");
  const std::string e = error_of(dir.file("aclImdb"));
  EXPECT_NE(e.find(dir.file("aclImdb/train/pos") + " holds no .txt review files"), std::string::npos) << e;
}

TEST(Imdb, AFolderNamedLikeAReviewIsAnErrorNamingIt) {
  TempDir dir;
  const std::string root = fixture::write_aclimdb(dir.path());
  make_directories(root + "/train/pos/99_9.txt");
  const std::string e = error_of(root);
  EXPECT_NE(e.find(root + "/train/pos/99_9.txt: is a folder, not a review file"), std::string::npos) << e;
}

TEST(Imdb, InvalidUtf8NamesTheFileAndTheOffset) {
  TempDir dir;
  const std::string root = fixture::write_aclimdb(dir.path());
  testing::write_file(root + "/train/pos/3_7.txt", "Caf\xE9 society");  // Latin-1, not UTF-8
  const std::string e = error_of(root);
  EXPECT_NE(e.find(root + "/train/pos/3_7.txt: not valid UTF-8 at byte offset 3"), std::string::npos) << e;
}

TEST(TokenizedReviews, ServesEveryReviewOncePerEpochInASeededOrder) {
  std::vector<std::vector<int32_t>> ids;
  std::vector<int64_t> labels;
  for (int32_t i = 0; i < 10; ++i) {
    ids.push_back({i});
    labels.push_back(i % 2);
  }
  TokenizedReviews a(ids, labels, 7), b(ids, labels, 7), c(ids, labels, 8);
  std::vector<size_t> epoch_a, epoch_c;
  for (int i = 0; i < 3; ++i) {
    const auto batch = a.next_batch(3);
    EXPECT_EQ(batch, b.next_batch(3));
    epoch_a.insert(epoch_a.end(), batch.begin(), batch.end());
    const auto other = c.next_batch(3);
    epoch_c.insert(epoch_c.end(), other.begin(), other.end());
  }
  const auto last = a.next_batch(3);  // wraps: one left of the first epoch, then two from the start
  epoch_a.push_back(last[0]);
  EXPECT_EQ(std::set<size_t>(epoch_a.begin(), epoch_a.end()).size(), 10u);
  EXPECT_EQ(last[1], epoch_a[0]);
  EXPECT_EQ(last[2], epoch_a[1]);
  EXPECT_NE(std::vector<size_t>(epoch_a.begin(), epoch_a.begin() + 9), epoch_c);
  a.rewind();
  EXPECT_EQ(a.next_batch(2), (std::vector<size_t>{epoch_a[0], epoch_a[1]}));
  EXPECT_EQ(a.ids(4), std::vector<int32_t>{4});
  EXPECT_EQ(a.label(3), 1);
  EXPECT_EQ(a.longer_than(0), 10);
  EXPECT_EQ(a.longer_than(1), 0);
}

}  // namespace
}  // namespace mlspeed::imdb
