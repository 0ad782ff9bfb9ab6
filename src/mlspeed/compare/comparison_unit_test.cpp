// Matching, verdicts, the summary, context differences and the gate of `compare`, on synthetic
// samples: which side is faster is decided by the numbers given here, never by a clock.
#include "mlspeed/compare/comparison.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mlspeed/compare/comparison_printer.h"
#include "mlspeed/core/errors.h"

namespace mlspeed {
namespace {

// n samples around `ms`, spread by 0.2% so they are clean but not all equal.
std::vector<double> samples(double ms, int n = 20) {
  std::vector<double> xs;
  for (int i = 0; i < n; ++i) xs.push_back(ms * (1 + 0.001 * (i % 5) - 0.002));
  return xs;
}

Result timed_row(const std::string& device, std::vector<double> times, int64_t batch = 1) {
  Result r;
  r.workload = "bert-base-infer";
  r.size = "tiny";
  r.job = Job::infer;
  r.device = device;
  r.device_facts.kind = device.substr(0, device.find(':'));
  r.batch = batch;
  r.seq_len = 128;
  r.samples_ms = std::move(times);
  r.item_unit = "samples";
  r.items_per_step = static_cast<double>(batch);
  return r;
}

Result failed(const std::string& device, Status status, int64_t batch = 1) {
  Result r = timed_row(device, {}, batch);
  r.status = status;
  r.message = "out of memory";
  return r;
}

LoadedRun speed_run_of(const std::string& name, std::vector<Result> rows) {
  LoadedRun run;
  run.name = name;
  run.run.kind = "run";
  run.run.context.host.torch_version = "1.13.1";
  run.rows<Result>() = std::move(rows);
  return run;
}

const ComparedRow* find_row(const Comparison& c, int64_t batch, const std::string& device = "cpu") {
  for (const ComparedRow& r : c.rows)
    if (r.key.batch == batch && r.key.device == device) return &r;
  return nullptr;
}

Comparison two(std::vector<double> a, std::vector<double> b, CompareSettings settings = {}) {
  return compare_runs({speed_run_of("run 1", {timed_row("cpu", std::move(a))}), speed_run_of("run 2", {timed_row("cpu", std::move(b))})},
                      settings);
}

TEST(CompareMatching, RowsOnOneSideOnlyAreListedNotDropped) {
  const Comparison c = compare_runs({speed_run_of("run 1", {timed_row("cpu", samples(10), 1), timed_row("cpu", samples(20), 4)}),
                                     speed_run_of("run 2", {timed_row("cpu", samples(20), 4), timed_row("cpu", samples(40), 8)})},
                                    {});
  ASSERT_EQ(c.rows.size(), 3u);
  const ComparedRow* only_a = find_row(c, 1);
  ASSERT_TRUE(only_a);
  EXPECT_TRUE(only_a->cells[0].present);
  EXPECT_FALSE(only_a->cells[1].present);
  EXPECT_EQ(only_a->changes[1].verdict, Verdict::not_compared);
  const ComparedRow* only_b = find_row(c, 8);
  ASSERT_TRUE(only_b);
  EXPECT_FALSE(only_b->cells[0].present);
  EXPECT_TRUE(only_b->cells[1].present);
  EXPECT_EQ(find_row(c, 4)->changes[1].verdict, Verdict::same);
}

TEST(CompareMatching, RepetitionsOfAConfigurationArePooled) {
  Result first = timed_row("cpu", samples(10, 10)), second = timed_row("cpu", samples(10, 10));
  second.repetition = 1;
  const Comparison c = compare_runs({speed_run_of("run 1", {first, second}), speed_run_of("run 2", {timed_row("cpu", samples(10))})}, {});
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_EQ(c.rows[0].cells[0].rows, 2);
  EXPECT_EQ(c.rows[0].cells[0].samples_ms.size(), 20u);
  EXPECT_EQ(c.rows[0].cells[1].rows, 1);
}

TEST(CompareMatching, DevicesMatchByKindAcrossRunsNotByIndex) {
  const Comparison c = compare_runs(
      {speed_run_of("here", {timed_row("cuda:0", samples(5)), timed_row("cpu", samples(50))}), speed_run_of("there", {timed_row("cuda:1", samples(5))})},
      {});
  ASSERT_EQ(c.rows.size(), 2u);
  const ComparedRow* cuda = find_row(c, 1, "cuda");
  ASSERT_TRUE(cuda);
  EXPECT_EQ(cuda->cells[0].device, "cuda:0");
  EXPECT_EQ(cuda->cells[1].device, "cuda:1");
  EXPECT_EQ(cuda->changes[1].verdict, Verdict::same);
  EXPECT_FALSE(find_row(c, 1, "cpu")->cells[1].present) << "a CPU row is not matched with a GPU row";
}

TEST(CompareMatching, ADataParallelRowMatchesOnlyRowsOnAsManyDevices) {
  Result one_rank = timed_row("cuda:0", samples(5)), two_ranks = timed_row("cuda:0", samples(6));
  one_rank.data_parallel = true;  // `run --ddp 1`: data-parallel, one rank
  two_ranks.data_parallel = true;
  two_ranks.world_size = 2;
  two_ranks.allreduce_busbw_gb_s = 180;
  const Comparison c = compare_runs({speed_run_of("here", {timed_row("cuda:0", samples(5)), one_rank, two_ranks}),
                                     speed_run_of("there", {two_ranks})},
                                    {});
  ASSERT_EQ(c.rows.size(), 3u) << "one device, ddp x1 and ddp x2 are three configurations";
  std::vector<int64_t> sizes;
  for (const ComparedRow& r : c.rows) sizes.push_back(r.key.world_size);
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<int64_t>{0, 1, 2}));
  for (const ComparedRow& r : c.rows) {
    if (r.key.world_size != 2) continue;
    EXPECT_TRUE(r.cells[1].present);
    EXPECT_NE(describe(r.key).find(" ddp x2"), std::string::npos) << describe(r.key);
  }
}

TEST(CompareMatching, AFailedRowShowsItsStatusAndIsNotCompared) {
  const Comparison c = compare_runs({speed_run_of("run 1", {timed_row("cpu", samples(10))}), speed_run_of("run 2", {failed("cpu", Status::oom)})}, {});
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_TRUE(c.rows[0].cells[1].present);
  EXPECT_EQ(c.rows[0].cells[1].status, Status::oom);
  EXPECT_FALSE(c.rows[0].cells[1].timed());
  EXPECT_EQ(c.rows[0].changes[1].verdict, Verdict::not_compared);
  EXPECT_FALSE(c.rows[0].changes[1].test);
}

TEST(CompareVerdict, IdenticalSamplesAreTheSame) {
  const Change change = two(samples(10), samples(10)).rows[0].changes[1];
  EXPECT_EQ(change.verdict, Verdict::same);
  EXPECT_DOUBLE_EQ(change.test->p, 1.0);
  EXPECT_DOUBLE_EQ(*change.ratio, 1.0);
}

TEST(CompareVerdict, ATwentyPercentShiftWithTwentySamplesIsSlowerOrFaster) {
  const Change slower = two(samples(10), samples(12)).rows[0].changes[1];
  EXPECT_EQ(slower.verdict, Verdict::slower);
  EXPECT_NEAR(*slower.ratio, 1.2, 1e-9);
  EXPECT_NEAR(*slower.speedup, 1 / 1.2, 1e-9);
  EXPECT_LT(slower.test->p, 0.05);
  EXPECT_EQ(two(samples(12), samples(10)).rows[0].changes[1].verdict, Verdict::faster);
}

TEST(CompareVerdict, ASignificantChangeBelowTheThresholdIsTheSame) {
  // 3% slower with clean samples: the test finds it (p tiny), the 5% minimum effect does not.
  const Change small = two(samples(10), samples(10.3)).rows[0].changes[1];
  EXPECT_LT(small.test->p, 0.05);
  EXPECT_EQ(small.verdict, Verdict::same);
  CompareSettings strict;
  strict.threshold = 0.02;
  EXPECT_EQ(two(samples(10), samples(10.3), strict).rows[0].changes[1].verdict, Verdict::slower);
}

TEST(CompareVerdict, NoiseThatOverlapsIsNotCalledAChange) {
  // Medians 10% apart but the samples interleave: not significant.
  const std::vector<double> a = {8, 12, 9, 13, 10, 14, 9.5, 12.5, 10, 11};
  const std::vector<double> b = {9, 13, 10, 14, 11, 15, 10.5, 13.5, 11, 12};
  const Change change = two(a, b).rows[0].changes[1];
  EXPECT_GT(change.test->p, 0.05);
  EXPECT_EQ(change.verdict, Verdict::same);
}

TEST(CompareVerdict, TwoSamplesASideAreTooFewNeverSignificant) {
  const Change change = two({10, 10.1}, {20, 20.2}).rows[0].changes[1];
  EXPECT_EQ(change.verdict, Verdict::too_few_samples);
  EXPECT_NEAR(*change.speedup, 0.5, 0.01) << "the ratio is still shown";
  // 3 against 4 can reach 2/35 = 0.057 at best: still too few at alpha 0.05; 4 against 4 can.
  EXPECT_EQ(two(samples(10, 3), samples(20, 4)).rows[0].changes[1].verdict, Verdict::too_few_samples);
  EXPECT_EQ(two(samples(10, 4), samples(20, 4)).rows[0].changes[1].verdict, Verdict::slower);
}

TEST(CompareVerdict, APublishedFigureGetsARatioAndNoTest) {
  LoadedRun reference = speed_run_of("ref:bert-t4", {timed_row("cuda:0", {4.0})});
  reference.citation = "Macbook Pro GPU for ML? (blog), table 1";
  const Comparison c = compare_runs({speed_run_of("run 1", {timed_row("cuda:0", samples(8))}), reference}, {});
  ASSERT_EQ(c.rows.size(), 1u);
  const Change& change = c.rows[0].changes[1];
  EXPECT_EQ(change.verdict, Verdict::published);
  EXPECT_FALSE(change.test);
  EXPECT_NEAR(*change.speedup, 2.0, 0.01);
  EXPECT_TRUE(c.rows[0].cells[1].published);
  EXPECT_TRUE(slower_beyond(c, 0).empty()) << "no gate on a test that was not run";
  bool cited = false;
  for (const std::string& note : c.notes) cited |= note.find("Macbook Pro GPU for ML?") != std::string::npos;
  EXPECT_TRUE(cited);
}

TEST(CompareSummary, GeometricMeanOfTheSpeedupsPerDeviceKind) {
  const Comparison c = compare_runs(
      {speed_run_of("run 1", {timed_row("cpu", samples(10), 1), timed_row("cpu", samples(10), 4), timed_row("cuda:0", samples(1), 1)}),
       speed_run_of("run 2", {timed_row("cpu", samples(5), 1), timed_row("cpu", samples(20), 4), timed_row("cuda:0", samples(1), 1)})},
      {});
  ASSERT_EQ(c.summaries.size(), 2u);
  const ColumnSummary& cpu = c.summaries[0].device == "cpu" ? c.summaries[0] : c.summaries[1];
  EXPECT_EQ(cpu.column, 1u);
  EXPECT_EQ(cpu.compared, 2);
  EXPECT_EQ(cpu.faster, 1);
  EXPECT_EQ(cpu.slower, 1);
  EXPECT_NEAR(*cpu.geomean_speedup, 1.0, 1e-9);  // sqrt(2 * 0.5)
  const ColumnSummary& cuda = c.summaries[0].device == "cuda" ? c.summaries[0] : c.summaries[1];
  EXPECT_EQ(cuda.same, 1);
}

bool has_note(const Comparison& c, const std::string& text) {
  for (const std::string& note : c.notes)
    if (note.find(text) != std::string::npos) return true;
  return false;
}

TEST(CompareContext, DifferencesThatMakeRowsIncomparableAreNoted) {
  LoadedRun a = speed_run_of("run 1", {timed_row("cuda:0", samples(10))});
  LoadedRun b = speed_run_of("run 2", {timed_row("cuda:0", samples(10))});
  b.run.context.host.torch_version = "2.5.1";
  b.run.context.tf32_default = true;
  b.run.context.host.build_type = "Debug";
  a.rows<Result>()[0].device_facts.name = "NVIDIA H100 80GB HBM3";
  b.rows<Result>()[0].device_facts.name = "NVIDIA H200";
  const Comparison c = compare_runs({a, b}, {});
  EXPECT_TRUE(has_note(c, "LibTorch: 1.13.1 (run 1) vs 2.5.1 (run 2)"));
  EXPECT_TRUE(has_note(c, "TF32: off (run 1) vs on (run 2)"));
  EXPECT_TRUE(has_note(c, "run 2 was timed by a Debug build"));
  EXPECT_TRUE(has_note(c, "cuda devices: NVIDIA H100 80GB HBM3 (run 1) vs NVIDIA H200 (run 2)"));
  EXPECT_FALSE(has_note(c, "CUDA:")) << "facts unknown on both sides are not differences";
}

TEST(CompareContext, EqualContextsHaveNoDifferences) {
  const Comparison c = two(samples(10), samples(10));
  EXPECT_TRUE(c.notes.empty()) << c.notes.front();
}

TEST(CompareContext, FewSamplesAreWarnedAbout) {
  EXPECT_TRUE(has_note(two(samples(10, 5), samples(10, 5)), "only 5 samples a side"));
}

TEST(CompareInput, AVerifyRunIsRefused) {
  LoadedRun checks = speed_run_of("run 3", {});
  checks.run.kind = "verify";
  checks.run.id = 3;
  try {
    compare_runs({speed_run_of("run 1", {}), checks}, {});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("compare takes speed runs"), std::string::npos) << e.what();
  }
}

TEST(CompareDevices, EachConfigurationOnEachDeviceAgainstTheFirst) {
  const LoadedRun run = speed_run_of("run 4", {timed_row("cpu", samples(30), 1), timed_row("cuda:0", samples(3), 1),
                                            timed_row("cpu", samples(60), 4), timed_row("cuda:1", samples(5), 1)});
  const Comparison c = compare_devices(run, {"cpu", "cuda:0"}, {});
  EXPECT_EQ(c.columns, (std::vector<std::string>{"cpu", "cuda:0"}));
  ASSERT_EQ(c.rows.size(), 2u);
  const ComparedRow* b1 = find_row(c, 1, "");
  ASSERT_TRUE(b1);
  EXPECT_EQ(b1->changes[1].verdict, Verdict::faster);
  EXPECT_NEAR(*b1->changes[1].speedup, 10.0, 1e-9);
  EXPECT_FALSE(find_row(c, 4, "")->cells[1].present);
  EXPECT_THROW(compare_devices(run, {"cpu", "mps"}, {}), UsageError);
  EXPECT_THROW(compare_devices(run, {"cpu", "cpu"}, {}), UsageError);
}

// As on the H200: the GPU's rows replayed CUDA graphs, the CPU's cannot; still one configuration.
TEST(CompareDevices, AGraphReplayOnTheGpuMatchesTheCpusEagerStep) {
  Result gpu = timed_row("cuda:0", samples(3), 1);
  gpu.graphs = GraphUse::step;
  const Comparison c = compare_devices(speed_run_of("run 3", {timed_row("cpu", samples(30), 1), gpu}), {"cpu", "cuda:0"}, {});
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_TRUE(c.rows[0].cells[0].present && c.rows[0].cells[1].present);
}

// Published figures are eager scripts: our graph replays match them, and a note says what differs.
TEST(CompareVerdict, APublishedFigureMatchesAGraphReplayWithANote) {
  Result ours = timed_row("cuda:0", samples(8));
  ours.graphs = GraphUse::step;
  LoadedRun reference = speed_run_of("ref:bert-t4", {timed_row("cuda:0", {4.0})});
  reference.citation = "Macbook Pro GPU for ML? (blog), table 1";
  const Comparison c = compare_runs({speed_run_of("run 1", {ours}), reference}, {});
  ASSERT_EQ(c.rows.size(), 1u);
  EXPECT_TRUE(c.rows[0].cells[1].present);
  bool noted = false;
  for (const std::string& note : c.notes) noted |= note.find("run 1 replayed CUDA graphs") != std::string::npos;
  EXPECT_TRUE(noted);
  // Between two runs of our own, a replay and an eager step stay different configurations.
  EXPECT_EQ(compare_runs({speed_run_of("run 1", {ours}), speed_run_of("run 2", {timed_row("cuda:0", samples(8))})}, {}).rows.size(),
            2u);
}

TEST(CompareGate, FailsOnlyOnSignificantSlowdownsBeyondThePercentage) {
  const Comparison slower = two(samples(10), samples(12));
  ASSERT_EQ(slower_beyond(slower, 10).size(), 1u);
  EXPECT_NE(slower_beyond(slower, 10)[0].find("20.0% slower"), std::string::npos) << slower_beyond(slower, 10)[0];
  EXPECT_TRUE(slower_beyond(slower, 25).empty());
  EXPECT_TRUE(slower_beyond(two(samples(12), samples(10)), 0).empty()) << "faster never fails";
  EXPECT_TRUE(slower_beyond(two({10, 10.1}, {20, 20.2}), 0).empty()) << "too few samples never fails";
  EXPECT_TRUE(slower_beyond(two(samples(10), samples(10.3)), 0).empty()) << "within the threshold: same";
}

// The H200's BERT run against the T4's figures: the T4 set has no CPU rows, which is one line.
TEST(ComparePrinter, AKindOfDeviceOneSideLacksIsOneLine) {
  const Comparison c = compare_runs({speed_run_of("run 1", {timed_row("cpu", samples(10), 1), timed_row("cuda:0", samples(2), 1)}),
                                     speed_run_of("run 2", {timed_row("cuda:0", samples(3), 1)})},
                                    {});
  std::ostringstream out, notes;
  print_comparison(c, Format::md, out, notes);
  const std::string md = out.str();
  EXPECT_NE(md.find("\nB has no cpu rows; A has 1 configuration on cpu.\n"), std::string::npos) << md;
  EXPECT_EQ(md.find("only in A"), std::string::npos) << md;
  EXPECT_NE(md.find("### B vs A on cuda"), std::string::npos) << md;
}

TEST(ComparePrinter, MarkdownNamesTheColumnsAndShowsEachVerdict) {
  const Comparison c = compare_runs({speed_run_of("run 1", {timed_row("cpu", samples(10), 1), timed_row("cpu", samples(10), 4)}),
                                     speed_run_of("run 2", {timed_row("cpu", samples(12), 1), timed_row("cpu", samples(10), 8)})},
                                    {});
  std::ostringstream out, notes;
  print_comparison(c, Format::md, out, notes);
  const std::string md = out.str();
  EXPECT_NE(md.find("A = run 1 (baseline), B = run 2"), std::string::npos) << md;
  EXPECT_NE(md.find("0.83x slower"), std::string::npos) << md;
  EXPECT_NE(md.find("only in A"), std::string::npos) << md;
  EXPECT_NE(md.find("only in B"), std::string::npos) << md;
  EXPECT_NE(md.find("geometric mean"), std::string::npos) << md;
  std::istringstream lines(md);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("|", 0) == 0) EXPECT_LE(line.size(), 120u) << line;
}

TEST(ComparePrinter, AVerdictOnNoisySamplesIsMarkedAndTheNoiseNamed) {
  std::vector<double> noisy = samples(12);
  noisy[0] = 60;  // one sample five times the rest: an outlier and a high coefficient of variation
  const Comparison c = two(samples(10), noisy);
  ASSERT_EQ(c.rows[0].changes[1].verdict, Verdict::slower);
  EXPECT_TRUE(c.rows[0].cells[1].noise.noisy());
  EXPECT_EQ(c.summaries[0].noisy, 1);
  std::ostringstream out, notes;
  print_comparison(c, Format::md, out, notes);
  EXPECT_NE(out.str().find("0.83x slower? "), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("| B cv "), std::string::npos) << out.str();
  EXPECT_NE(slower_beyond(c, 10).at(0).find("its samples are noisy"), std::string::npos);
}

TEST(ComparePrinter, JsonAndCsvHaveOneRecordPerConfigurationAndColumn) {
  const Comparison c = compare_runs({speed_run_of("run 1", {timed_row("cpu", samples(10), 1), timed_row("cpu", samples(10), 4)}),
                                     speed_run_of("run 2", {timed_row("cpu", samples(12), 1)}),
                                     speed_run_of("run 3", {timed_row("cpu", samples(10), 1)})},
                                    {});
  std::ostringstream json, csv, notes;
  print_comparison(c, Format::json, json, notes);
  const nlohmann::json records = nlohmann::json::parse(json.str());
  ASSERT_EQ(records.size(), 4u);  // 2 configurations x 2 compared runs
  EXPECT_EQ(records[0]["verdict"], "slower");
  EXPECT_EQ(records[0]["compared"], "run 2");
  EXPECT_EQ(records[1]["verdict"], "same");
  EXPECT_EQ(records[2]["status"], "absent");
  EXPECT_TRUE(records[2]["p_value"].is_null());
  print_comparison(c, Format::csv, csv, notes);
  std::string header;
  std::getline(std::istringstream(csv.str()) >> std::ws, header);
  EXPECT_EQ(header.substr(0, 28), "configuration,workload,size,");
}

// Rows of the same configuration (repetitions), each with its energy per item.
std::vector<Result> rows_with_energy(const std::vector<double>& joules_per_item) {
  std::vector<Result> rows;
  for (double j : joules_per_item) {
    Result r = timed_row("cuda:0", samples(10));
    r.joules_per_item = j;
    rows.push_back(r);
  }
  return rows;
}

TEST(CompareEnergy, EnergyPerItemIsJudgedByTheRuleOfTheTimesOverTheRows) {
  const std::vector<double> a = {2.0, 2.01, 1.99, 2.02, 1.98, 2.0};
  const std::vector<double> less = {1.5, 1.51, 1.49, 1.52, 1.48, 1.5};  // 25% less
  Comparison c =
      compare_runs({speed_run_of("run 1", rows_with_energy(a)), speed_run_of("run 2", rows_with_energy(less))}, {});
  ASSERT_EQ(c.rows.size(), 1u);
  const Change& change = c.rows[0].changes[1];
  ASSERT_TRUE(change.energy_ratio.has_value());
  EXPECT_NEAR(*change.energy_ratio, 0.75, 1e-9);
  EXPECT_EQ(change.energy_verdict, Verdict::faster);
  EXPECT_EQ(describe_energy(change), "0.75x energy, less");
  EXPECT_EQ(change.verdict, Verdict::same) << "the times did not move";
  std::ostringstream md, json, notes;
  print_comparison(c, Format::md, md, notes);
  EXPECT_NE(md.str().find("B vs A, J/item"), std::string::npos) << md.str();
  print_comparison(c, Format::jsonl, json, notes);
  const nlohmann::json record = nlohmann::json::parse(json.str().substr(0, json.str().find('\n')));
  EXPECT_EQ(record["energy_verdict"], "less");
  EXPECT_NEAR(record["energy_ratio"].get<double>(), 0.75, 1e-9);

  // One row a side: a ratio, and too few samples to call it anything.
  c = compare_runs({speed_run_of("run 1", rows_with_energy({2.0})), speed_run_of("run 2", rows_with_energy({1.5}))},
                   CompareSettings{});
  EXPECT_EQ(describe_energy(c.rows[0].changes[1]), "0.75x energy, too few samples");
  // Without energy on a side: no ratio, and no energy column.
  c = compare_runs(
      {speed_run_of("run 1", {timed_row("cuda:0", samples(10))}), speed_run_of("run 2", rows_with_energy({1.5}))}, {});
  EXPECT_FALSE(c.rows[0].changes[1].energy_ratio.has_value());
  std::ostringstream plain;
  print_comparison(c, Format::md, plain, notes);
  EXPECT_EQ(plain.str().find("J/item"), std::string::npos) << plain.str();
}

}  // namespace
}  // namespace mlspeed
