#include "mlspeed/text/wordpiece.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "mlspeed/core/errors.h"
#include "testing/test_support.h"

namespace mlspeed::text {
namespace {

using Words = std::vector<std::string>;

// Hugging Face's BertTokenizer tests use this vocabulary; a few tokens are added for ours.
WordPiece test_vocab() {
  return WordPiece({"[PAD]", "[UNK]", "[CLS]", "[SEP]",  "want",  "##want", "##ed", "wa",  "un", "runn",
                    "##ing", ",",     "low",   "lowest", "##aff", "##able", "a",    "##a", "!",  "?"});
}

TEST(BasicTokenizer, LowerCasesAndSplitsOnWhiteSpaceAndPunctuation) {
  EXPECT_EQ(basic_tokenize(" \tHeLLo!how  \n Are yoU?  "), (Words{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(basic_tokenize("don't stop-me... now"), (Words{"don", "'", "t", "stop", "-", "me", ".", ".", ".", "now"}));
  EXPECT_EQ(basic_tokenize(""), Words{});
  EXPECT_EQ(basic_tokenize(" \n\t "), Words{});
}

TEST(BasicTokenizer, AsciiSymbolsArePunctuationAsInBert) {
  EXPECT_EQ(basic_tokenize("$5^2=`x`|~"), (Words{"$", "5", "^", "2", "=", "`", "x", "`", "|", "~"}));
}

TEST(BasicTokenizer, StripsAccents) {
  EXPECT_EQ(basic_tokenize("H\xC3\xA9llo"), Words{"hello"});                                 // Héllo
  EXPECT_EQ(basic_tokenize(" \tH\xC3\xA4LLo!how"), (Words{"hallo", "!", "how"}));            // HäLLo
  EXPECT_EQ(basic_tokenize("\xC3\x89L\xC3\x88VE NA\xC3\x8FVE"), (Words{"eleve", "naive"}));  // ÉLÈVE NAÏVE
  EXPECT_EQ(basic_tokenize("\xC5\xBD\xC3\xBDr\xC5\xAF\xC4\x8D"
                           "ek"),
            Words{"zyrucek"});                                    // Žýrůček
  EXPECT_EQ(basic_tokenize("e\xCC\x81t\xC3\xA9"), Words{"ete"});  // e + U+0301, té
  // No canonical decomposition: only lower-cased.
  EXPECT_EQ(basic_tokenize("\xC3\x86\xC3\x98 Stra\xC3\x9F"
                           "e"),
            (Words{"\xC3\xA6\xC3\xB8",
                   "stra\xC3\x9F"
                   "e"}));
  EXPECT_EQ(basic_tokenize("\xD0\x99\xD0\x9E\xD0\x94"), Words{"\xD0\xB8\xD0\xBE\xD0\xB4"});  // ЙОД -> иод
  EXPECT_EQ(basic_tokenize("\xCE\x86\xCE\x9B\xCE\xA6\xCE\x91"),
            Words{"\xCE\xB1\xCE\xBB\xCF\x86\xCE\xB1"});  // ΆΛΦΑ -> αλφα
}

TEST(BasicTokenizer, SeparatesCjkIdeographs) {
  EXPECT_EQ(basic_tokenize("ah\xE5\x8D\x9A\xE6\x8E\xA8zz"), (Words{"ah", "\xE5\x8D\x9A", "\xE6\x8E\xA8", "zz"}));
}

TEST(BasicTokenizer, UnicodePunctuationSpacesAndControls) {
  // “great…” with curly quotes and an ellipsis; an em dash between words.
  EXPECT_EQ(basic_tokenize("\xE2\x80\x9CGreat\xE2\x80\xA6\xE2\x80\x9D ok\xE2\x80\x94no"),
            (Words{"\xE2\x80\x9C", "great", "\xE2\x80\xA6", "\xE2\x80\x9D", "ok", "\xE2\x80\x94", "no"}));
  EXPECT_EQ(basic_tokenize("a\xC2\xA0"
                           "b\xE3\x80\x80"
                           "c"),
            (Words{"a", "b", "c"}));  // NBSP, ideographic space
  // NUL, a zero-width space, a soft hyphen, U+FFFD and a C1 control vanish.
  EXPECT_EQ(basic_tokenize(std::string("a\0b", 3) + "\xE2\x80\x8B"
                                                    "c\xC2\xAD"
                                                    "d\xEF\xBF\xBD"
                                                    "e\xC2\x85"
                                                    "f"),
            Words{"abcdef"});
  EXPECT_EQ(basic_tokenize("\xC2\xBFQu\xC3\xA9?"), (Words{"\xC2\xBF", "que", "?"}));  // ¿Qué?
  // Symbols that are not punctuation stay in the word.
  EXPECT_EQ(basic_tokenize("\xC2\xA3"
                           "5"),
            Words{"\xC2\xA3"
                  "5"});  // £5
}

TEST(WordPiece, GreedyLongestMatchFirst) {
  const WordPiece vocab = test_vocab();
  EXPECT_EQ(vocab.tokenize("unwanted running"), (Words{"un", "##want", "##ed", "runn", "##ing"}));
  EXPECT_EQ(vocab.tokenize("UNwant\xC3\xA9"
                           "d,running"),
            (Words{"un", "##want", "##ed", ",", "runn", "##ing"}));
  EXPECT_EQ(vocab.tokenize("unaffable"), (Words{"un", "##aff", "##able"}));
  EXPECT_EQ(vocab.tokenize("lowest low"), (Words{"lowest", "low"}));
  EXPECT_EQ(vocab.tokenize(""), Words{});
}

TEST(WordPiece, AWordWithAnUnmatchedPartIsUnknownAsAWhole) {
  const WordPiece vocab = test_vocab();
  EXPECT_EQ(vocab.tokenize("unwantedX running"), (Words{"[UNK]", "runn", "##ing"}));
  EXPECT_EQ(vocab.tokenize("xyz!"), (Words{"[UNK]", "!"}));
}

TEST(WordPiece, WordsLongerThan100CharactersAreUnknown) {
  const WordPiece vocab = test_vocab();
  EXPECT_EQ(vocab.tokenize(std::string(100, 'a')).size(), 100u);  // "a" then 99 x "##a"
  EXPECT_EQ(vocab.tokenize(std::string(101, 'a')), Words{"[UNK]"});
}

TEST(WordPiece, EncodesIdsAndTruncates) {
  const WordPiece vocab = test_vocab();
  EXPECT_EQ(vocab.encode("unwanted running"), (std::vector<int32_t>{8, 5, 6, 9, 10}));
  EXPECT_EQ(vocab.encode("unwanted running", 2), (std::vector<int32_t>{8, 5}));
  EXPECT_EQ(vocab.encode("unwanted running", 4), (std::vector<int32_t>{8, 5, 6, 9}));
  EXPECT_EQ(vocab.pad_id(), 0);
  EXPECT_EQ(vocab.unk_id(), 1);
  EXPECT_EQ(vocab.cls_id(), 2);
  EXPECT_EQ(vocab.sep_id(), 3);
  EXPECT_EQ(vocab.id("runn"), 9);
  EXPECT_EQ(vocab.id("nope"), -1);
}

TEST(WordPiece, NeedsTheSpecialTokens) {
  try {
    WordPiece({"[PAD]", "[UNK]", "hello"});
    FAIL() << "no [CLS] or [SEP]";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[CLS], [SEP]"), std::string::npos) << e.what();
  }
}

TEST(WordPiece, ReadsVocabTxtWithIdsByLine) {
  testing::TempDir dir;
  const std::string file = dir.file("vocab.txt");
  testing::write_file(file, "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello\r\n##s\r\n\xC3\xA9t\xC3\xA9\r\nhello\n");
  const WordPiece vocab = WordPiece::from_file(file);
  EXPECT_EQ(vocab.size(), 8);
  EXPECT_EQ(vocab.id("\xC3\xA9t\xC3\xA9"), 6);  // été, CR dropped
  EXPECT_EQ(vocab.id("hello"), 7);              // listed twice: the last line wins, as HF's load_vocab
  EXPECT_EQ(vocab.tokenize("Hellos"), (Words{"hello", "##s"}));
}

TEST(WordPiece, BadVocabFilesNameTheFileAndWhere) {
  testing::TempDir dir;
  const auto error_of = [](const std::string& file) -> std::string {
    try {
      WordPiece::from_file(file);
    } catch (const InputFileError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string missing = dir.file("missing.txt");
  EXPECT_NE(error_of(missing).find(missing + ": cannot be read"), std::string::npos) << error_of(missing);

  const std::string latin1 = dir.file("latin1.txt");
  testing::write_file(latin1, "[PAD]\n[UNK]\ncaf\xE9\n");
  EXPECT_NE(error_of(latin1).find(latin1 + ": not valid UTF-8 at byte offset 15 (line 3)"), std::string::npos)
      << error_of(latin1);

  const std::string words = dir.file("words.txt");
  testing::write_file(words, "the\nand\n[UNK]\n");
  EXPECT_NE(error_of(words).find(words + ": the vocabulary has no [PAD], [CLS], [SEP] token"), std::string::npos)
      << error_of(words);
}

}  // namespace
}  // namespace mlspeed::text
