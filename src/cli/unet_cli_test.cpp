// `mlspeed run -w sd15-unet-infer` end to end on the CPU at the tiny size.
#include <gtest/gtest.h>

#include "mlspeed/results/printers.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

using testing::run_cli;

TEST(UnetCli, TinyRunReportsTheStepAndTheFiftyStepJob) {
  const auto r = run_cli({"run", "-w", "sd15-unet-infer", "-d", "cpu", "--sizes", "tiny", "-n", "2", "--warmup", "0",
                          "--no-db", "-o", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 1u);  // tiny's default: one image
  const Result& row = rows[0];
  EXPECT_EQ(row.status, Status::ok) << row.message;
  EXPECT_EQ(row.workload, "sd15-unet-infer");
  EXPECT_EQ(row.size, "tiny");
  EXPECT_EQ(row.job, Job::infer);
  EXPECT_EQ(row.batch, 1);
  EXPECT_EQ(row.seq_len, 0);
  EXPECT_EQ(row.item_unit, "steps");
  EXPECT_EQ(row.items_per_step, 1.0);
  EXPECT_GT(row.flops_per_item, 0.0);
  EXPECT_EQ(row.samples_ms.size(), 2u);
  EXPECT_EQ(row.steps_per_job, 50);
  ASSERT_TRUE(row.job_s.has_value());
  EXPECT_NEAR(*row.job_s, row.summary.median * 50 / 1e3, 1e-9 + 1e-9 * *row.job_s);
  ASSERT_TRUE(row.items_per_s.has_value());
  EXPECT_NEAR(*row.items_per_s, 1e3 / row.summary.median, 1e-6 * *row.items_per_s);  // it/s
}

TEST(UnetCli, TwoImagesAndBFloat16) {
  const auto r = run_cli({"run", "-w", "sd15-unet-infer", "-d", "cpu", "--sizes", "tiny", "-b", "2", "-t",
                          "fp32,bf16,fp16", "-n", "1", "--warmup", "0", "--no-db", "-o", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 3u);
  for (const Result& row : rows) {
    EXPECT_EQ(row.batch, 2);
    if (row.precision == Precision::fp16) {
      // LibTorch 1.13 has no float16 convolution on the CPU: refused as unsupported, never an error.
      EXPECT_TRUE(row.status == Status::ok || row.status == Status::unsupported) << row.message;
    } else {
      EXPECT_EQ(row.status, Status::ok) << name(row.precision) << ": " << row.message;
      EXPECT_EQ(row.steps_per_job, 50);
    }
  }
}

}  // namespace
}  // namespace mlspeed
