// The whole catalogue through the CLI at its tiny size on the CPU: every workload runs every one
// of its default shapes, in float32 and bfloat16, as `mlspeed run --sizes tiny` would for a user.
#include <gtest/gtest.h>

#include <set>

#include "mlspeed/results/printers.h"
#include "mlspeed/workloads/workload.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

TEST(Catalogue, EveryWorkloadRunsItsTinySizeThroughTheCli) {
  const auto r = testing::run_cli({"run", "--sizes", "tiny", "-d", "cpu", "-t", "fp32,bf16", "-n", "1",
                                   "--warmup", "0", "-o", "jsonl", "--no-db"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  size_t expected = 0;
  for (const Workload* w : workload_catalogue()) expected += 2 * w->shapes(*find_size(*w, "tiny"), {}).size();
  ASSERT_EQ(rows.size(), expected);
  std::set<std::string> seen;
  for (const Result& row : rows) {
    seen.insert(row.workload);
    EXPECT_EQ(row.status, Status::ok) << row.workload << " " << name(row.precision) << ": " << row.message;
    EXPECT_EQ(row.size, "tiny");
    EXPECT_GT(row.items_per_s.value_or(0), 0) << row.workload;
    EXPECT_GT(row.flops_per_item, 0) << row.workload;
  }
  EXPECT_EQ(seen.size(), workload_catalogue().size());
}

}  // namespace
}  // namespace mlspeed
