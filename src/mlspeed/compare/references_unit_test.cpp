#include "mlspeed/compare/references.h"

#include <gtest/gtest.h>

#include <set>

namespace mlspeed {
namespace {

TEST(References, EveryBundledSetReadsWithACitationAndRows) {
  const std::vector<ReferenceInfo> infos = list_references();
  ASSERT_GE(infos.size(), 8u);
  for (const ReferenceInfo& info : infos) {
    SCOPED_TRACE(info.name);
    EXPECT_FALSE(info.citation.empty());
    EXPECT_FALSE(info.description.empty());
    const std::optional<LoadedRun> run = load_reference(info.name);
    ASSERT_TRUE(run);
    EXPECT_EQ(run->name, "ref:" + info.name);
    EXPECT_EQ(run->run.kind, "run");
    EXPECT_EQ(run->published(), info.published);  // LoadedRun tells published figures apart
    ASSERT_FALSE(run->rows<Result>().empty());
    for (const Result& row : run->rows<Result>()) {
      if (row.status != Status::ok) continue;
      EXPECT_GT(row.summary.median, 0);
      EXPECT_EQ(row.summary.n, static_cast<int>(row.samples_ms.size()));
      EXPECT_FALSE(run->run.context.devices.empty());
    }
  }
  EXPECT_FALSE(load_reference("no-such-set"));
}

// The published BERT table, one set per machine: ms per iteration at batch 1/4 x seq 128/512.
TEST(References, BertTableAsPublished) {
  const LoadedRun t4 = *load_reference("bert-t4");
  EXPECT_NE(t4.citation.find("Macbook Pro GPU for ML?"), std::string::npos);
  EXPECT_NE(t4.citation.find("https://"), std::string::npos);
  ASSERT_EQ(t4.rows<Result>().size(), 4u);
  for (const Result& row : t4.rows<Result>()) {
    EXPECT_EQ(row.workload, "bert-base-infer");
    EXPECT_EQ(row.device, "cuda:0");
    EXPECT_EQ(row.samples_ms.size(), 1u);  // one published figure, no raw samples
    if (row.batch == 4 && row.seq_len == 512) EXPECT_EQ(row.summary.median, 114);
  }
  const LoadedRun m1 = *load_reference("bert-m1pro");
  std::set<std::string> devices;
  for (const Result& row : m1.rows<Result>()) devices.insert(row.device);
  EXPECT_EQ(devices, (std::set<std::string>{"cpu", "mps"}));
}

TEST(References, NanoGptSamplesAreTheLoggedIterations) {
  const LoadedRun mps = *load_reference("nanogpt-macbook-mps");
  ASSERT_EQ(mps.rows<Result>().size(), 1u);
  EXPECT_EQ(mps.rows<Result>()[0].samples_ms, (std::vector<double>{220.50, 221.44, 221.30, 220.74, 220.24}));
  EXPECT_EQ(mps.rows<Result>()[0].batch, 64);
  EXPECT_EQ(mps.rows<Result>()[0].seq_len, 256);
  EXPECT_DOUBLE_EQ(mps.rows<Result>()[0].summary.median, 220.74);
}

TEST(References, MlspeedOwnRunsAreNotPublishedFigures) {
  for (const ReferenceInfo& info : list_references()) {
    if (info.name.rfind("mlspeed-", 0) != 0) continue;
    EXPECT_FALSE(info.published) << info.name;
    EXPECT_NE(info.citation.find("results/"), std::string::npos) << info.name;
  }
}

}  // namespace
}  // namespace mlspeed
