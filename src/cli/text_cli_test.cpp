// The IMDB text-classification workloads (distilbert-imdb, small-transformer-imdb) through the
// built program: tiny sizes on the CPU, synthetic and with a miniature aclImdb folder as --data.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mlspeed/compat/torch_compat.h"
#include "mlspeed/core/precision.h"
#include "testing/imdb_fixture.h"
#include "mlspeed/results/printers.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

const std::vector<std::string> kTinyText = {
    "run", "-w",   "distilbert-imdb,small-transformer-imdb", "-d", "cpu", "--sizes", "tiny", "--warmup", "0", "--no-db",
    "-o",  "jsonl"};

using testing::with;

TEST(TextCli, BothWorkloadsTrainAtTinySizeInFp32AndBf16) {
  const bool bf16 = compat::autocast_supports(c10::DeviceType::CPU, at::kBFloat16);
  const auto r = run_cli(with(kTinyText, {"-n", "1", "-t", bf16 ? "fp32,bf16" : "fp32"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), bf16 ? 4u : 2u) << r.out;
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::ok) << row.workload << " " << name(row.precision) << ": " << row.message;
    EXPECT_EQ(row.job, Job::train);
    EXPECT_EQ(row.item_unit, "samples");
    EXPECT_EQ(row.items_per_step, 4);
    EXPECT_EQ(row.data, "synthetic");
    EXPECT_EQ(row.samples_ms.size(), 1u);
    ASSERT_TRUE(row.tflops) << row.workload;
    EXPECT_GT(*row.tflops, 0);
    EXPECT_EQ(row.autocast, row.precision == Precision::bf16) << row.workload;
  }
  EXPECT_EQ(rows.front().workload, "distilbert-imdb");
  EXPECT_EQ(rows.front().seq_len, 64);
  EXPECT_EQ(rows.back().workload, "small-transformer-imdb");
  EXPECT_EQ(rows.back().seq_len, 32);
}

TEST(TextCli, BothWorkloadsReadTheReviewsWithData) {
  TempDir dir;
  const std::string root = imdb::fixture::write_aclimdb(dir.path());
  const auto r = run_cli(with(kTinyText, {"--data", root, "-n", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;
  for (const auto& row : rows) {
    EXPECT_EQ(row.status, Status::ok) << row.workload << ": " << row.message;
    EXPECT_EQ(row.samples_ms.size(), 3u);
    EXPECT_NE(row.data.find("IMDB " + root + "/train: 6 reviews (3 pos, 3 neg)"), std::string::npos) << row.data;
  }
  EXPECT_NE(rows[0].data.find("WordPiece (" + root + "/vocab.txt"), std::string::npos) << rows[0].data;
  EXPECT_NE(rows[1].data.find("word index"), std::string::npos) << rows[1].data;
}

TEST(TextCli, DataWithoutVocabularyStopsWithTheReason) {
  TempDir dir;
  const std::string root = imdb::fixture::write_aclimdb(dir.path(), /*with_vocab=*/false);
  const auto r = run_cli(with(kTinyText, {"-n", "1", "--data", root + "/train"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no vocab.txt in " + root), std::string::npos) << r.err;
  // The small transformer builds its own word index: it needs no vocabulary.
  const auto small = run_cli({"run", "-w", "small-transformer-imdb", "-d", "cpu", "--sizes", "tiny", "-n", "1",
                              "--warmup", "0", "--no-db", "-o", "jsonl", "--data", root + "/train"});
  ASSERT_EQ(small.exit_code, 0) << small.err;
  EXPECT_EQ(parse_results(Format::jsonl, small.out).at(0).status, Status::ok);
}

TEST(TextCli, DataThatIsNotAclImdbStopsWithTheReason) {
  TempDir dir;
  testing::write_file(dir.file("reviews.csv"), "text,label\n");
  const auto r = run_cli(with(kTinyText, {"-n", "1", "--data", dir.file("reviews.csv")}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(dir.file("reviews.csv") + " has neither train/pos and train/neg"), std::string::npos) << r.err;
}

TEST(TextCli, WorkloadsListsTheExactParameterCounts) {
  const auto r = run_cli({"workloads"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("distilbert-imdb"), std::string::npos);
  EXPECT_NE(r.out.find("66955010"), std::string::npos) << r.out;  // SPEC.md
  EXPECT_NE(r.out.find("small-transformer-imdb"), std::string::npos);
  EXPECT_NE(r.out.find("657758"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace mlspeed
