#include "mlspeed/data/char_text.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "mlspeed/core/errors.h"
#include "testing/test_support.h"

namespace mlspeed::data {
namespace {

using testing::TempDir;
using testing::write_file;

std::string char_text_error(const std::string& path, int64_t max_vocab = 65, int64_t min_train = 2) {
  try {
    read_char_text(path, max_vocab, min_train);
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "";
}

TEST(CharText, EncodesAsPrepareDotPyDoes) {
  TempDir dir;
  // 20 characters; vocabulary sorted by code point: '\n' ' ' 'a' 'b' 'c' 'é'.
  write_file(dir.file("t.txt"), "abc cba\nabc cba\né éa");
  const CharText text = read_char_text(dir.file("t.txt"), 65, 2);
  EXPECT_EQ(text.characters, 20);
  EXPECT_EQ(text.vocabulary, (std::vector<char32_t>{U'\n', U' ', U'a', U'b', U'c', U'é'}));
  ASSERT_EQ(text.train.size(0), 18);  // int(20 * 0.9)
  const std::vector<int64_t> first(text.train.data_ptr<int64_t>(), text.train.data_ptr<int64_t>() + 9);
  EXPECT_EQ(first, (std::vector<int64_t>{2, 3, 4, 1, 4, 3, 2, 0, 2}));
  EXPECT_EQ(text.train[16].item<int64_t>(), 5);  // 'é', a two-byte character, is one id
}

TEST(CharText, BatchesAreWindowsOfTheSplitWithTargetsShiftedByOne) {
  TempDir dir;
  std::string s;
  for (int i = 0; i < 100; ++i) s += static_cast<char>('a' + i % 26);
  write_file(dir.file("abc.txt"), s);
  const CharText text = read_char_text(dir.file("abc.txt"), 65, 9);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto [x, y] = char_batch(text, 4, 8, gen);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_TRUE(x.narrow(1, 1, 7).equal(y.narrow(1, 0, 7)));
  // Consecutive letters: each next id is the previous + 1, modulo the alphabet.
  EXPECT_TRUE(((x + 1) % 26).equal(y));
  auto gen2 = at::make_generator<at::CPUGeneratorImpl>(3);
  EXPECT_TRUE(char_batch(text, 4, 8, gen2).first.equal(x)) << "same seed, same batch";
}

TEST(CharText, BadFilesNameTheFileAndTheOffset) {
  TempDir dir;
  EXPECT_NE(char_text_error(dir.file("none.txt")).find("none.txt: does not exist"), std::string::npos);
  write_file(dir.file("empty.txt"), "");
  EXPECT_NE(char_text_error(dir.file("empty.txt")).find("is empty"), std::string::npos);
  write_file(dir.file("latin1.txt"), "caf\xe9 au lait");
  EXPECT_NE(char_text_error(dir.file("latin1.txt")).find("is not UTF-8 text: an invalid byte sequence at offset 3"),
            std::string::npos)
      << char_text_error(dir.file("latin1.txt"));
  write_file(dir.file("cut.txt"), "abc\xe2\x82");
  EXPECT_NE(char_text_error(dir.file("cut.txt")).find("is not UTF-8 text: an invalid byte sequence at offset 3"), std::string::npos) << char_text_error(dir.file("cut.txt"));
  write_file(dir.file("wide.txt"), "abcdefghij");
  EXPECT_NE(char_text_error(dir.file("wide.txt"), 5).find("has 10 distinct characters, more than the model's vocabulary of 5"),
            std::string::npos);
  EXPECT_NE(char_text_error(dir.file("wide.txt"), 65, 100).find("needs at least 100"), std::string::npos);
  EXPECT_NE(char_text_error(dir.path()).find("is a folder"), std::string::npos);
}

}  // namespace
}  // namespace mlspeed::data
