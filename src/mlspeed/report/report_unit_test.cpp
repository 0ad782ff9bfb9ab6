// The report's model (which bars, their spread, which speedups against which baseline, verdicts,
// published figures) and both renderers, including rows whose names try to break out of the page.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "mlspeed/report/chartjs.h"
#include "mlspeed/report/html_report.h"
#include "mlspeed/report/markdown_report.h"
#include "mlspeed/report/report_model.h"
#include "mlspeed/report/report_runs.h"
#include "mlspeed/results/row_table.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed::report {
namespace {

const std::string kHostile = "</script><script>alert(1)</script>";

Result row(const std::string& device, std::vector<double> samples_ms, Precision precision = Precision::fp32,
           int64_t batch = 4, const std::string& workload = "bert-base-infer") {
  Result r;
  r.workload = workload;
  r.size = "full";
  r.job = Job::infer;
  r.device = device;
  r.precision = precision;
  r.batch = batch;
  r.seq_len = 128;
  r.item_unit = "samples";
  r.items_per_step = double(batch);
  r.flops_per_item = 1e9;
  r.peak_tflops = 100;
  r.samples_ms = std::move(samples_ms);
  r.device_facts.name = device == "cpu" ? "AMD EPYC" : "NVIDIA H200";
  derive_figures(r);
  return r;
}

LoadedRun speed_run(const std::string& name, std::vector<Result> rows) {
  LoadedRun run;
  run.name = name;
  run.run.kind = "run";
  run.run.status = "complete";
  run.run.context = testing::sample_context();
  run.rows<Result>() = std::move(rows);
  return run;
}

const WorkloadSection& section(const ReportModel& model, const std::string& workload) {
  auto it = std::find_if(model.workloads.begin(), model.workloads.end(),
                         [&](const WorkloadSection& w) { return w.workload == workload; });
  EXPECT_NE(it, model.workloads.end()) << workload;
  return *it;
}

const Bar* find_bar(const ReportModel& model, const std::string& series, const std::string& category) {
  for (const WorkloadSection& w : model.workloads)
    for (const Bar& bar : w.bars)
      if (model.series[bar.series].name == series && w.categories[bar.category] == category) return &bar;
  return nullptr;
}

TEST(ReportModel, OneBarPerSeriesAndConfigurationWithTheSpreadOfItsSamples) {
  const ReportModel model =
      build_report({speed_run("run 1", {row("cpu", {10, 12, 11, 30, 9}), row("cuda:0", {1, 1, 1})})});
  ASSERT_EQ(model.series.size(), 2u);
  EXPECT_EQ(model.series[0].name, "run 1 · cpu");
  EXPECT_EQ(model.series[1].device_name, "NVIDIA H200");
  const WorkloadSection& w = section(model, "bert-base-infer");
  EXPECT_EQ(w.unit, "samples/s");
  ASSERT_EQ(w.categories, std::vector<std::string>{"fp32 b4 s128"});
  const Bar* cpu = find_bar(model, "run 1 · cpu", "fp32 b4 s128");
  ASSERT_NE(cpu, nullptr);
  EXPECT_DOUBLE_EQ(cpu->median_ms, 11);
  EXPECT_DOUBLE_EQ(cpu->throughput, 4 / 0.011);
  EXPECT_EQ(cpu->n, 5);
  // The slowest sample is the lowest throughput; the quartiles lie around the median.
  EXPECT_DOUBLE_EQ(*cpu->min, 4 / 0.030);
  EXPECT_DOUBLE_EQ(*cpu->max, 4 / 0.009);
  EXPECT_DOUBLE_EQ(*cpu->q1, 4 / 0.012);
  EXPECT_DOUBLE_EQ(*cpu->q3, 4 / 0.010);
  EXPECT_NEAR(*cpu->mfu, 4 / 0.011 * 1e9 / 100e12, 1e-12);
}

TEST(ReportModel, DtypesAndShapesAreSeparateCategoriesAndRepetitionsPoolTheirSamples) {
  Result repeat = row("cpu", {20, 20, 20, 20, 20});
  repeat.repetition = 1;
  const ReportModel model = build_report(
      {speed_run("run 1", {row("cpu", {10, 10, 10, 10, 10}), repeat, row("cpu", {5, 5, 5, 5, 5}, Precision::bf16),
                           row("cpu", {40, 40, 40, 40, 40}, Precision::fp32, 16)})});
  const WorkloadSection& w = section(model, "bert-base-infer");
  EXPECT_EQ(w.categories, (std::vector<std::string>{"fp32 b4 s128", "fp32 b16 s128", "bf16 b4 s128"}));
  ASSERT_EQ(w.bars.size(), 3u);
  const Bar* pooled = find_bar(model, "run 1 · cpu", "fp32 b4 s128");
  ASSERT_NE(pooled, nullptr);
  EXPECT_EQ(pooled->n, 10);
  EXPECT_DOUBLE_EQ(pooled->median_ms, 15);
}

// Rows that differ only in their weight format, kernels or KV-cache depth are configurations of
// their own, each named so.
TEST(ReportModel, WeightFormatsKernelsAndDepthsAreSeparateCategories) {
  Result q4 = row("cpu", {10, 10, 10}, Precision::bf16), q8 = q4, libtorch = q4, deep = q4;
  q4.weight_format = ModelFormat::q4_0;
  q8.weight_format = ModelFormat::q8_0;
  libtorch.weight_format = ModelFormat::q4_0;
  libtorch.kernels = KernelSet::libtorch;
  deep.weight_format = ModelFormat::q4_0;
  deep.item_unit = "tokens";
  deep.seq_len = 0;
  deep.new_tokens = 128;
  deep.batch = 1;
  Result shallow = deep;
  deep.depth = 4096;
  const ReportModel model = build_report({speed_run("run 1", {q4, q8, libtorch, shallow, deep})});
  const WorkloadSection& w = section(model, "bert-base-infer");
  EXPECT_EQ(w.bars.size(), 5u);
  for (const char* category : {"bf16 q4_0 b4 s128", "bf16 q8_0 b4 s128", "bf16 q4_0 b4 s128 libtorch kernels",
                               "bf16 q4_0 tg128", "bf16 q4_0 tg128 @ d4096"})
    EXPECT_NE(find_bar(model, "run 1 · cpu", category), nullptr) << category;
}

TEST(ReportModel, SpeedupsAcrossRunsMatchTheConfigurationAndTheKindOfDevice) {
  const LoadedRun before = speed_run("run 1", {row("cpu", {10, 10, 10}), row("cuda:0", {2, 2, 2})});
  const LoadedRun after =
      speed_run("run 2", {row("cuda:1", {1, 1, 1}), row("cpu", {20, 20, 20}), row("cpu", {3, 3, 3}, Precision::bf16)});
  const ReportModel model = build_report({before, after});
  EXPECT_EQ(model.baseline, "run 1");
  EXPECT_DOUBLE_EQ(*find_bar(model, "run 2 · cuda:1", "fp32 b4 s128")->speedup, 2.0);
  EXPECT_DOUBLE_EQ(*find_bar(model, "run 2 · cpu", "fp32 b4 s128")->speedup, 0.5);
  EXPECT_FALSE(find_bar(model, "run 2 · cpu", "bf16 b4 s128")->speedup) << "no bf16 row in the baseline";
  EXPECT_FALSE(find_bar(model, "run 1 · cpu", "fp32 b4 s128")->speedup) << "the baseline itself";

  const ReportModel other = build_report({before, after}, 1);
  EXPECT_EQ(other.baseline, "run 2");
  EXPECT_DOUBLE_EQ(*find_bar(other, "run 1 · cuda:0", "fp32 b4 s128")->speedup, 0.5);
}

TEST(ReportModel, WithinOneRunDevicesAreComparedWithItsFirstDevice) {
  const ReportModel model =
      build_report({speed_run("run 1", {row("cpu", {10, 10, 10}), row("cuda:0", {0.5, 0.5, 0.5})})});
  EXPECT_EQ(model.baseline, "run 1 · cpu");
  EXPECT_DOUBLE_EQ(*find_bar(model, "run 1 · cuda:0", "fp32 b4 s128")->speedup, 20.0);
}

TEST(ReportModel, FailedRowsAreListedNotDrawnAndPublishedFiguresHaveNoSpread) {
  Result oom = row("cuda:0", {});
  oom.status = Status::oom;
  oom.message = "CUDA out of memory";
  Result published = row("cuda:0", {});
  published.summary.median = 8;
  published.items_per_s = 500;
  LoadedRun reference = speed_run("ref:bert-t4", {published});
  reference.citation = "Macbook Pro GPU for ML? (blog), table 1";
  const ReportModel model = build_report({speed_run("run 1", {row("cuda:0", {4, 4, 4}), oom}), reference});
  const WorkloadSection& w = section(model, "bert-base-infer");
  ASSERT_EQ(w.failures.size(), 1u);
  EXPECT_NE(w.failures[0].find("oom: CUDA out of memory"), std::string::npos) << w.failures[0];
  const Bar* bar = find_bar(model, "ref:bert-t4 · cuda:0", "fp32 b4 s128");
  ASSERT_NE(bar, nullptr);
  EXPECT_DOUBLE_EQ(bar->throughput, 500);
  EXPECT_EQ(bar->n, 0);
  EXPECT_FALSE(bar->min);
  EXPECT_TRUE(model.series[bar->series].published);
  EXPECT_TRUE(model.runs[1].published());
  EXPECT_DOUBLE_EQ(*bar->speedup, 0.5);  // 1000 samples/s in run 1

  // A published figure stored as its one sample: drawn, and not called noisy for being one.
  LoadedRun one = speed_run("ref:one", {row("cuda:0", {8})});
  one.citation = "a blog";
  const ReportModel single = build_report({one});
  ASSERT_EQ(single.workloads.size(), 1u);
  ASSERT_EQ(single.workloads[0].bars.size(), 1u);
  EXPECT_DOUBLE_EQ(single.workloads[0].bars[0].throughput, 500);
  EXPECT_EQ(single.workloads[0].bars[0].noise, "") << "mlspeed's sampling flags do not judge published figures";

  Result sd = oom;
  sd.workload = "sd15-unet-infer";
  const ReportModel failed = build_report({speed_run("run 2", {sd})});
  ASSERT_EQ(failed.workloads.size(), 1u) << "a workload whose rows all failed still has its section";
  EXPECT_TRUE(failed.workloads[0].bars.empty());
  EXPECT_EQ(failed.workloads[0].failures.size(), 1u);
}

TEST(ReportModel, NoisySamplesAreFlagged) {
  const ReportModel model = build_report({speed_run("run 1", {row("cpu", {10, 10, 10, 10, 10, 10, 10, 10, 10, 50})})});
  EXPECT_NE(find_bar(model, "run 1 · cpu", "fp32 b4 s128")->noise, "");
}

TEST(ReportModel, VerifyRunsGiveAVerdictPerDeviceAndAContextColumn) {
  LoadedRun checks;
  checks.name = "run 2";
  checks.run.kind = "verify";
  for (auto outcome : {verify::Outcome::pass, verify::Outcome::pass, verify::Outcome::fail}) {
    verify::CheckResult c;
    c.device = outcome == verify::Outcome::fail ? "cuda:0" : "cpu";
    c.check = "mm";
    c.outcome = outcome;
    checks.rows<verify::CheckResult>().push_back(c);
  }
  const ReportModel model = build_report({speed_run("run 1", {row("cpu", {1, 1, 1})}), checks});
  ASSERT_EQ(model.runs.size(), 2u);
  EXPECT_EQ(model.runs[1].kind, "verify");
  ASSERT_EQ(model.verdicts.size(), 2u);
  for (const VerdictCard& card : model.verdicts) {
    EXPECT_EQ(card.run, "run 2");
    EXPECT_EQ(card.verdict.ok(), card.verdict.device == "cpu") << card.verdict.device;
  }
  EXPECT_EQ(model.series.size(), 1u);
}

// A verification run with no checks verified nothing: no PASS from no check at all.
TEST(ReportModel, AVerifyRunWithNoChecksSaysSoAndGetsNoVerdict) {
  LoadedRun empty;
  empty.name = "run 3";
  empty.run.kind = RowType<verify::CheckResult>::kind;
  const ReportModel model = build_report({empty});
  EXPECT_TRUE(model.verdicts.empty());
  std::vector<std::string> pages = {render_markdown(model)};
  if (!chartjs_source().empty()) pages.push_back(render_html(model));  // HTML needs Chart.js
  for (const std::string& page : pages) {
    EXPECT_EQ(page.find("PASS"), std::string::npos) << page;
    EXPECT_NE(page.find("run 3: no checks"), std::string::npos) << page;
  }
}

// The default report leaves out a run whose stored context is damaged, and says so.
TEST(ReportRuns, TheDefaultRunsPassOverADamagedRun) {
  testing::TempDir dir;
  const std::string path = dir.file("r.db");
  {
    Database db(path);
    for (int i = 0; i < 2; ++i) {
      const int64_t id = begin_run<Result>(db, testing::sample_context());
      Result r = row("cpu", {1, 1, 1});
      store_row(db, id, r);
    }
  }
  testing::raw_sql(path, "UPDATE runs SET context_json = '[' WHERE id = 2");
  DefaultRuns chosen;
  ASSERT_NO_THROW(chosen = default_runs(path));
  EXPECT_EQ(chosen.specs, std::vector<std::string>{"1"});
  ASSERT_EQ(chosen.passed_over.size(), 1u);
  EXPECT_NE(chosen.passed_over[0].find("run 2: its context (column context_json"), std::string::npos);
}

TEST(ReportModel, FiguresHaveFourSignificantDigitsOrGroupedThousands) {
  EXPECT_EQ(format_figure(1.53666), "1.537");
  EXPECT_EQ(format_figure(568.54), "568.5");
  EXPECT_EQ(format_figure(10580.4), "10,580");
  EXPECT_EQ(format_figure(1234567), "1,234,567");
  EXPECT_EQ(format_figure(-2500), "-2,500");
  EXPECT_EQ(format_figure(0), "0");
}

TEST(ReportHtml, HostileNamesCannotCloseTheScriptOrInjectMarkup) {
  if (chartjs_source().empty()) GTEST_SKIP() << "built without Chart.js (libjs-chart.js)";
  Result evil = row("cpu", {1, 2, 3}, Precision::fp32, 4, kHostile);
  LoadedRun run = speed_run(kHostile, {evil});
  run.run.context.host.hostname = kHostile;
  run.run.label = "<img src=x onerror=alert(2)>";
  const std::string html = render_html(build_report({run}));
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  // Exactly the page's three script elements: the data, Chart.js and the page's own script.
  size_t opened = 0;
  for (size_t at = 0; (at = html.find("<script", at)) != std::string::npos; ++at) ++opened;
  EXPECT_EQ(opened, 3u);
  // The data element holds JSON that parses back to the hostile name.
  const size_t start = html.find("<script type=\"application/json\" id=\"mlspeed-data\">");
  ASSERT_NE(start, std::string::npos);
  const size_t body = html.find('>', start) + 1;
  const auto data = nlohmann::json::parse(html.substr(body, html.find("</script>", body) - body));
  EXPECT_EQ(data["workloads"][0]["workload"], kHostile);
  EXPECT_NE(html.find("data-metric=\"throughput\""), std::string::npos);
}

TEST(ReportHtml, EverySeriesHasAColourOfItsOwn) {
  const std::vector<std::string> colours = series_colours(40);
  ASSERT_EQ(colours.size(), 40u);
  EXPECT_EQ(std::set<std::string>(colours.begin(), colours.end()).size(), 40u);
  for (const std::string& c : colours) EXPECT_TRUE(c.size() == 7 && c[0] == '#') << c;
  EXPECT_EQ(series_colours(3), std::vector<std::string>(colours.begin(), colours.begin() + 3));
  EXPECT_TRUE(series_colours(0).empty());
}

TEST(ReportHtml, ScriptJsonEscapesWhatCouldEndTheElementAndReplacesInvalidUtf8) {
  const std::string text = script_json(nlohmann::json{{"name", "</script><!-- & \xff"}});
  EXPECT_EQ(text.find('<'), std::string::npos);
  EXPECT_EQ(text.find('>'), std::string::npos);
  EXPECT_EQ(text.find('&'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["name"], "</script><!-- & \xef\xbf\xbd");
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(ReportHtml, ChartsFollowWhatTheRowsHave) {
  if (chartjs_source().empty()) GTEST_SKIP() << "built without Chart.js (libjs-chart.js)";
  Result decode = row("cuda:0", {2, 2, 2}, Precision::bf16, 1, "llama2-7b-generate");
  decode.mbu = 0.6;
  const std::string html = render_html(build_report(
      {speed_run("run 1", {row("cpu", {10, 10, 10})}), speed_run("run 2", {row("cpu", {5, 5, 5}), decode})}));
  for (const char* metric : {"throughput", "speedup", "mfu", "mbu"})
    EXPECT_NE(html.find("data-metric=\"" + std::string(metric) + "\""), std::string::npos) << metric;
  EXPECT_EQ(html.find("data-metric=\"efficiency\""), std::string::npos) << "no row read its energy";
  EXPECT_NE(html.find(std::string(chartjs_source().substr(0, 200))), std::string::npos) << "Chart.js inlined";
  // Nothing to fetch: no external script, style sheet or image.
  EXPECT_EQ(html.find(" src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(ReportMarkdown, TablesOfThroughputWithSpeedupsVerdictsAndMarkedReferences) {
  Result published = row("cuda:0", {});
  published.summary.median = 8;
  published.items_per_s = 500;
  LoadedRun reference = speed_run("ref:bert-t4", {published});
  reference.citation = "Macbook Pro GPU for ML? (blog), table 1";
  LoadedRun evil = speed_run("a|b " + kHostile, {row("cuda:0", {2, 2, 2})});
  const std::string md =
      render_markdown(build_report({speed_run("run 1", {row("cuda:0", {4, 4, 4})}), reference, evil}));
  EXPECT_NE(md.find("## bert-base-infer"), std::string::npos) << md;
  EXPECT_NE(md.find("| fp32 b4 s128"), std::string::npos) << md;
  EXPECT_NE(md.find(" 1,000 ⚠ |"), std::string::npos) << "n=3: few iterations " << md;
  EXPECT_NE(md.find("500 (0.50×)"), std::string::npos) << md;
  EXPECT_NE(md.find("2,000 (2.00×)"), std::string::npos) << md;
  EXPECT_NE(md.find("ref:bert-t4 (published)"), std::string::npos) << md;
  EXPECT_NE(md.find("Published figures measured by other code"), std::string::npos) << md;
  EXPECT_NE(md.find("Macbook Pro GPU for ML? (blog), table 1"), std::string::npos) << md;
  EXPECT_EQ(md.find("<script"), std::string::npos) << md;
  EXPECT_NE(md.find("a\\|b"), std::string::npos) << md;
}

// A data-parallel row (run --ddp) is a configuration of its own beside its one-device row, never
// pooled with it, and its scaling efficiency gets a chart.
TEST(ReportModel, DataParallelRowsAreCategoriesOfTheirOwnWithAScalingChart) {
  Result one = row("cuda:0", {10, 10, 10}), two = one;
  two.data_parallel = true;
  two.world_size = 2;
  two.items_per_step = 2 * one.items_per_step;
  two.samples_ms = {11, 11, 11};
  two.scaling_efficiency = 0.909;
  two.allreduce_busbw_gb_s = 150;
  derive_figures(two);
  const ReportModel model = build_report({speed_run("run 1", {one, two})});
  const WorkloadSection& w = section(model, "bert-base-infer");
  ASSERT_EQ(w.bars.size(), 2u);
  const Bar* single = find_bar(model, "run 1 · cuda:0", "fp32 b4 s128");
  const Bar* ddp = find_bar(model, "run 1 · cuda:0", "fp32 b4 s128 ddp x2");
  ASSERT_TRUE(single && ddp);
  EXPECT_EQ(single->n, 3) << "not pooled with the two-device samples";
  EXPECT_FALSE(single->scaling_efficiency.has_value());
  EXPECT_EQ(ddp->scaling_efficiency, 0.909);
  EXPECT_DOUBLE_EQ(ddp->throughput, 8 * 1e3 / 11);
  if (!chartjs_source().empty()) {
    const std::string html = render_html(model);
    EXPECT_NE(html.find("data-metric=\"scaling\""), std::string::npos);
  }
  EXPECT_NE(render_markdown(model).find(" · scaling 91%"), std::string::npos) << render_markdown(model);
}

TEST(ReportHtml, RowsWithEnergyGetAnEfficiencyChartAndTheirThrottleIsNamed) {
  if (chartjs_source().empty()) GTEST_SKIP() << "built without Chart.js (libjs-chart.js)";
  Result a = row("cuda:0", {2, 2, 2}), b = a;
  a.items_per_joule = 40;
  b.items_per_joule = 60;  // a repetition: the bar is the median of the rows'
  b.repetition = 1;
  b.throttle = "power-cap";
  const ReportModel model = build_report({speed_run("run 1", {a, b})});
  ASSERT_EQ(model.workloads.size(), 1u);
  ASSERT_EQ(model.workloads[0].bars.size(), 1u);
  const Bar& bar = model.workloads[0].bars[0];
  EXPECT_EQ(bar.items_per_joule, 50);
  EXPECT_EQ(bar.throttle, "power-cap");
  const std::string html = render_html(model);
  EXPECT_NE(html.find("data-metric=\"efficiency\""), std::string::npos);
  EXPECT_NE(html.find("<th>per joule</th><th>throttle</th>"), std::string::npos);
  EXPECT_NE(html.find(">power-cap</td>"), std::string::npos);
  const std::string md = render_markdown(model);
  EXPECT_NE(md.find("; after the dot, samples per joule."), std::string::npos) << md;
  EXPECT_NE(md.find(" · 50/J ⚠ |"), std::string::npos) << md;
  EXPECT_NE(md.find("throttled: power-cap"), std::string::npos) << md;
}

}  // namespace
}  // namespace mlspeed::report
