#include "mlspeed/compare/history.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "mlspeed/results/fields.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"
#include "testing/check_test_rows.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

// Four runs: 1 bert on cpu (2026-11-01, "a"), 2 gpt2 on cuda:1 (2026-11-20, "b"), 3 a verify run
// with a model check of bert on cuda:0 (2026-11-25), 4 bert on cpu and cuda:1 (2026-11-30, "a").
class History : public ::testing::Test {
 protected:
  void SetUp() override {
    add_run("2026-11-01T10:00:00Z", "a", {{"bert-base-infer", "cpu"}});
    add_run("2026-11-20T10:00:00Z", "b", {{"gpt2-train", "cuda:1"}});
    RunContext context = testing::sample_context();
    context.started_at = "2026-11-25T10:00:00Z";
    const int64_t verify_run = begin_run<verify::CheckResult>(db, context);
    verify::CheckResult check = testing::check_row("cuda:0", "bert-base-infer", verify::Outcome::pass);
    store_row(db, verify_run, check);
    add_run("2026-11-30T10:00:00Z", "a", {{"bert-base-infer", "cpu"}, {"bert-base-infer", "cuda:1"}});
  }

  void add_run(const std::string& when, const std::string& label,
               const std::vector<std::pair<std::string, std::string>>& rows) {
    RunContext context = testing::sample_context();
    context.started_at = when;
    const int64_t id = begin_run<Result>(db, context, label);
    for (const auto& [workload, device] : rows) {
      Result row = testing::full_row();
      row.workload = workload;
      row.device = device;
      store_row(db, id, row);
    }
  }

  std::vector<int64_t> ids(const HistoryFilter& filter) {
    std::vector<int64_t> out;
    for (const StoredRun& run : select_history(db, filter)) out.push_back(run.id);
    return out;
  }

  testing::TempDir dir;
  Database db{dir.file("r.db")};
};

TEST_F(History, NewestFirstAndLimited) {
  EXPECT_EQ(ids({}), (std::vector<int64_t>{4, 3, 2, 1}));
  HistoryFilter f;
  f.limit = 2;
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 3}));
}

TEST_F(History, FiltersByWorkloadIncludingVerifyModelChecks) {
  HistoryFilter f;
  f.workload = "bert-base-infer";
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 3, 1}));
  f.workload = "llama2-7b-generate";
  EXPECT_TRUE(ids(f).empty());
}

TEST_F(History, FiltersByDeviceAndByDeviceKind) {
  HistoryFilter f;
  f.device = "cuda:1";
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 2}));
  f.device = "cuda";
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 3, 2}));
  f.device = "cpu";
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 1}));
}

TEST_F(History, FiltersBySinceAndLabelTogether) {
  HistoryFilter f;
  f.since = parse_since("2026-11-20");
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 3, 2}));
  f.since = parse_since("2026-11-20T10:00:01Z");
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4, 3}));
  f.label = "a";
  EXPECT_EQ(ids(f), (std::vector<int64_t>{4}));
  f.limit = 1;
  f.label = "b";
  EXPECT_TRUE(ids(f).empty());
}

TEST(HistorySince, TakesDatesAndTimesAndRefusesTheRest) {
  EXPECT_EQ(parse_since("2026-11-23"), "2026-11-23");
  EXPECT_EQ(parse_since("2026-11-23T14:05"), "2026-11-23T14:05");
  EXPECT_EQ(parse_since("2026-11-23T14:05:09Z"), "2026-11-23T14:05:09");
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-11-32", "2026-11-23T25:00", "23/11/2026", "2026-11-2"})
    EXPECT_THROW(parse_since(bad), std::invalid_argument) << bad;
}

TEST(HistorySince, RefusesDaysTheMonthDoesNotHave) {
  for (const char* bad : {"2026-02-31", "2026-02-29", "2026-04-31", "2026-06-31T10:00", "1900-02-29", "2026-00-10",
                          "2026-11-00"})
    EXPECT_THROW(parse_since(bad), std::invalid_argument) << bad;
  for (const char* good : {"2028-02-29", "2000-02-29", "2026-01-31", "2026-12-31T23:59:59Z", "2026-04-30"})
    EXPECT_NO_THROW(parse_since(good)) << good;
}

TEST(HistoryRows, NameEveryDeviceAndTheVersions) {
  StoredRun run;
  run.id = 3;
  run.label = "driver 580";
  run.context = testing::sample_context();
  run.row_count = 5;
  const HistoryRow row = history_row(run);
  EXPECT_EQ(row.id, 3);
  EXPECT_EQ(row.label, "driver 580");
  EXPECT_NE(row.devices.find("cuda:1 (NVIDIA H100 80GB HBM3)"), std::string::npos);
  EXPECT_EQ(row.torch_version, "1.13.1");
  EXPECT_EQ(row.cuda_version, "11.7");
  EXPECT_EQ(row.rows, 5);
  EXPECT_EQ(history_fields().size(), 11u);
}

}  // namespace
}  // namespace mlspeed
