#include "mlspeed/text/word_index.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mlspeed::text {
namespace {

using WordList = std::vector<std::string>;

TEST(WordIndex, StandardisesAsKerasTextVectorization) {
  EXPECT_EQ(standardize_and_split("Don't STOP-me, now!"), (WordList{"dont", "stopme", "now"}));
  EXPECT_EQ(standardize_and_split("  a\tb\nc  "), (WordList{"a", "b", "c"}));
  EXPECT_EQ(standardize_and_split("... -- !"), WordList{});
  // Bytes past ASCII are kept as they are (tf.strings.lower is ASCII-only).
  EXPECT_EQ(standardize_and_split("Caf\xC3\xA9 \xC3\x89T\xC3\x89"), (WordList{"caf\xC3\xA9", "\xC3\x89t\xC3\x89"}));
}

TEST(WordIndex, IdsByDescendingCountThenByWord) {
  const WordIndex index = WordIndex::build({"b a a. C!", "c b a", "z y"}, 100);
  // a: 3, b: 2, c: 2, y: 1, z: 1
  EXPECT_EQ(index.size(), 2 + 5);
  EXPECT_EQ(index.word(0), "");
  EXPECT_EQ(index.word(1), "[UNK]");
  EXPECT_EQ(index.id("a"), 2);
  EXPECT_EQ(index.id("b"), 3);
  EXPECT_EQ(index.id("c"), 4);
  EXPECT_EQ(index.id("y"), 5);
  EXPECT_EQ(index.id("z"), 6);
  EXPECT_EQ(index.encode("A z, unknown b"), (std::vector<int32_t>{2, 6, WordIndex::kOutOfVocabulary, 3}));
}

TEST(WordIndex, CappedAtMaxTokensWithPaddingAndOov) {
  const WordIndex index = WordIndex::build({"b a a", "c b a"}, 4);
  EXPECT_EQ(index.size(), 4);
  EXPECT_EQ(index.id("a"), 2);
  EXPECT_EQ(index.id("b"), 3);
  EXPECT_EQ(index.id("c"), WordIndex::kOutOfVocabulary);
  EXPECT_THROW(WordIndex::build({"a"}, 1), std::invalid_argument);
}

}  // namespace
}  // namespace mlspeed::text
