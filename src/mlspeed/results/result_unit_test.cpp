// The figures derived from a row's samples: throughput, MFU, the generation split (time to the
// first token, then per token) and the memory roofline of decoding rows.
#include "mlspeed/results/result.h"

#include <gtest/gtest.h>

namespace mlspeed {
namespace {

// A 16-token generation: 4 ms to the first token, then 15 tokens in 30 ms (2 ms each).
Result generation_row() {
  Result r;
  r.status = Status::ok;
  r.new_tokens = 16;
  r.items_per_step = 16;
  r.samples_ms = {34, 34, 40};
  r.first_token_samples_ms = {4, 4, 6};
  return r;
}

TEST(DeriveFigures, GenerationSplitsTheFirstTokenFromTheRest) {
  Result r = generation_row();
  derive_figures(r);
  ASSERT_TRUE(r.first_token_ms && r.ms_per_token && r.items_per_s);
  EXPECT_DOUBLE_EQ(*r.first_token_ms, 4);
  EXPECT_DOUBLE_EQ(*r.ms_per_token, 2);
  EXPECT_DOUBLE_EQ(*r.items_per_s, 16 / 0.034);
}

TEST(DeriveFigures, DecodingRowsGetTheirMemoryRooflineFromTheTimePerToken) {
  Result r = generation_row();
  r.bytes_per_item = 6e9;  // 6 GB a token in 2 ms: 3000 GB/s
  r.peak_gbps = 4000;
  derive_figures(r);
  ASSERT_TRUE(r.gbps && r.mbu);
  EXPECT_DOUBLE_EQ(*r.gbps, 3000);
  EXPECT_DOUBLE_EQ(*r.mbu, 0.75);

  r.peak_gbps.reset();  // a device without a known bandwidth still has its achieved rate
  derive_figures(r);
  EXPECT_TRUE(r.gbps.has_value());
  EXPECT_FALSE(r.mbu.has_value());
}

TEST(DeriveFigures, RowsWithoutARooflineOrWithoutAMeasurementHaveNone) {
  Result compute_bound = generation_row();
  compute_bound.peak_gbps = 4000;
  derive_figures(compute_bound);
  EXPECT_FALSE(compute_bound.gbps.has_value());
  EXPECT_FALSE(compute_bound.mbu.has_value());

  Result failed = generation_row();
  failed.bytes_per_item = 6e9;
  failed.status = Status::oom;
  failed.gbps = 1;  // stale figures from before are cleared
  derive_figures(failed);
  EXPECT_FALSE(failed.gbps.has_value());
  EXPECT_FALSE(failed.ms_per_token.has_value());
}

TEST(DeriveFigures, ABatchedDecodeStepMakesOneTokenPerSequence) {
  Result r = generation_row();
  r.batch = 4;             // each 2 ms decode step makes 4 tokens: 0.5 ms a token
  r.bytes_per_item = 1e9;  // a quarter of the weights plus a token's cache, per token
  derive_figures(r);
  ASSERT_TRUE(r.gbps.has_value());
  EXPECT_DOUBLE_EQ(*r.gbps, 2000);
}

TEST(DeriveFigures, WithoutATimePerTokenTheRooflineUsesTheStep) {
  Result r;
  r.status = Status::ok;
  r.items_per_step = 4;
  r.samples_ms = {8};
  r.bytes_per_item = 1e9;  // 4 items in 8 ms: 2 ms an item, 500 GB/s
  derive_figures(r);
  ASSERT_TRUE(r.gbps.has_value());
  EXPECT_DOUBLE_EQ(*r.gbps, 500);
}

TEST(GraphUse, NamesParseBack) {
  for (GraphUse u : {GraphUse::off, GraphUse::step, GraphUse::tokens, GraphUse::eager})
    EXPECT_EQ(parse_graph_use(name(u)), u);
  EXPECT_FALSE(parse_graph_use("on").has_value());
}

TEST(DeriveFigures, NoiseIsFlaggedOnMeasuredRowsOnly) {
  Result r;
  r.status = Status::ok;
  r.items_per_step = 1;
  r.samples_ms = {10, 10.1, 9.9, 10, 10.05, 9.95};
  derive_figures(r);
  EXPECT_EQ(r.noise, "");

  r.samples_ms = {10, 10.1, 9.9};  // three samples: too few for a median to mean much
  derive_figures(r);
  EXPECT_EQ(r.noise, "n=3");

  r.status = Status::oom;  // a failed row says why itself; a stale flag is cleared
  derive_figures(r);
  EXPECT_EQ(r.noise, "");
}

TEST(DeriveFigures, EnergyPerItemAndItemsPerJouleFollowFromTheStepsEnergy) {
  Result r = generation_row();
  r.joules_per_step = 8;  // 16 tokens a step
  derive_figures(r);
  ASSERT_TRUE(r.joules_per_item && r.items_per_joule);
  EXPECT_DOUBLE_EQ(*r.joules_per_item, 0.5);
  EXPECT_DOUBLE_EQ(*r.items_per_joule, 2);
  r.joules_per_step.reset();  // energy not read: no figures from it
  derive_figures(r);
  EXPECT_FALSE(r.joules_per_item || r.items_per_joule);
}

TEST(DeriveFigures, AClockThatFellOrAThrottleReasonMakesTheRowNoisy) {
  Result r = generation_row();
  r.samples_ms = {34, 34, 34, 34, 34, 34};
  r.clock_median_mhz = 1980;
  r.clock_min_mhz = 1800;  // 9% below: within the bound
  derive_figures(r);
  EXPECT_EQ(r.noise, "");
  r.clock_min_mhz = 1580;  // 20% below, as flashinfer's B200
  derive_figures(r);
  EXPECT_EQ(r.noise, "clock fell 20% below its median");
  r.throttle = "power-cap,thermal";
  derive_figures(r);
  EXPECT_EQ(r.noise, "clock fell 20% below its median, throttled: power-cap,thermal");
  r.samples_ms = {34, 34, 34};  // with the samples' own flag first
  derive_figures(r);
  EXPECT_EQ(r.noise, "n=3, clock fell 20% below its median, throttled: power-cap,thermal");
}

}  // namespace
}  // namespace mlspeed
