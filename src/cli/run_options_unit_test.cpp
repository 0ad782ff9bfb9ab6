#include "cli/run_options.h"

#include <gtest/gtest.h>

#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

std::string run_refusal(const std::map<std::string, std::string>& given) {
  try {
    parse_run_options(given);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

TEST(RunOptions, DefaultsComeFromTheTable) {
  const RunOptions o = parse_run_options({});
  EXPECT_EQ(o.workloads, workload_names());
  EXPECT_EQ(o.devices, (std::vector<std::string>{"all"}));
  EXPECT_EQ(o.dtypes, (std::vector<Precision>{Precision::fp32}));
  EXPECT_EQ(o.sizes, (std::vector<std::string>{"full"}));
  EXPECT_TRUE(o.batches.empty());
  EXPECT_TRUE(o.seqs.empty());
  EXPECT_EQ(o.repetitions, 1);
  EXPECT_EQ(o.warmup, 1);
  EXPECT_FALSE(o.iterations.has_value());
  EXPECT_DOUBLE_EQ(o.min_time, 2.0);
  EXPECT_EQ(o.format, Format::md);
  EXPECT_TRUE(o.db.empty());
  EXPECT_FALSE(o.no_db);
  EXPECT_FALSE(o.threads.has_value());
  EXPECT_TRUE(o.graphs);
}

TEST(RunOptions, EveryOptionIsDeclaredOnceWithHelpAndDefault) {
  std::set<std::string> names;
  for (const auto& spec : run_option_table()) {
    EXPECT_TRUE(names.insert(spec.long_name()).second) << spec.long_name();
    EXPECT_FALSE(spec.help.empty()) << spec.long_name();
    if (!spec.value_name.empty()) EXPECT_FALSE(spec.default_shown().empty()) << spec.long_name();
  }
}

TEST(RunOptions, ParsesGivenValues) {
  const RunOptions o = parse_run_options({{"workloads", "bert-base-infer"}, {"devices", "cpu,cuda:0"},
                                          {"dtypes", "fp32,bf16"}, {"sizes", "tiny"}, {"batch", "1,4"},
                                          {"seq", "128,512"}, {"repetitions", "3"}, {"warmup", "0"},
                                          {"iterations", "7"}, {"format", "csv"}, {"db", "/tmp/x.db"},
                                          {"no-db", ""}, {"seed", "42"}, {"threads", "3"}, {"graphs", "off"}});
  EXPECT_EQ(o.workloads, (std::vector<std::string>{"bert-base-infer"}));
  EXPECT_EQ(o.devices, (std::vector<std::string>{"cpu", "cuda:0"}));
  EXPECT_EQ(o.dtypes, (std::vector<Precision>{Precision::fp32, Precision::bf16}));
  EXPECT_EQ(o.batches, (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(o.seqs, (std::vector<int64_t>{128, 512}));
  EXPECT_EQ(o.repetitions, 3);
  EXPECT_EQ(o.warmup, 0);
  EXPECT_EQ(o.iterations, 7);
  EXPECT_EQ(o.format, Format::csv);
  EXPECT_EQ(o.db, "/tmp/x.db");
  EXPECT_TRUE(o.no_db);
  EXPECT_EQ(o.seed, 42u);
  EXPECT_EQ(o.threads, 3);
  EXPECT_FALSE(o.graphs);
  EXPECT_TRUE(parse_run_options({{"graphs", "on"}}).graphs);
}

TEST(RunOptions, BadValuesNameTheOptionTheValueAndTheChoices) {
  EXPECT_NE(run_refusal({{"workloads", "resnet"}}).find("--workloads: unknown value 'resnet'; choose from: " +
                                                         join(workload_names(), ", ")),
            std::string::npos);
  EXPECT_NE(run_refusal({{"dtypes", "fp8"}}).find("--dtypes: unknown value 'fp8'; choose from: fp32, tf32, fp16, bf16"),
            std::string::npos);
  EXPECT_NE(run_refusal({{"format", "xml"}}).find("--format: unknown format 'xml'; choose from: md, json, jsonl, csv"),
            std::string::npos);
  EXPECT_NE(run_refusal({{"sizes", "huge"}}).find("--sizes: unknown value 'huge'"), std::string::npos);
  EXPECT_NE(run_refusal({{"batch", "1,,4"}}).find("--batch"), std::string::npos);
  EXPECT_NE(run_refusal({{"batch", "0"}}).find("--batch: '0' is out of range"), std::string::npos);
  EXPECT_NE(run_refusal({{"iterations", "0"}}).find("--iterations"), std::string::npos);
  EXPECT_NE(run_refusal({{"repetitions", "-2"}}).find("--repetitions"), std::string::npos);
  EXPECT_NE(run_refusal({{"min-time", "0"}}).find("--min-time"), std::string::npos);
  EXPECT_NE(run_refusal({{"devices", "cpu,"}}).find("--devices"), std::string::npos);
  EXPECT_NE(run_refusal({{"db", ""}}).find("--db"), std::string::npos);
  EXPECT_NE(run_refusal({{"threads", "0"}}).find("--threads: '0' is out of range"), std::string::npos);
  EXPECT_NE(run_refusal({{"graphs", "yes"}}).find("--graphs: unknown value 'yes'; choose from: on, off"),
            std::string::npos);
}

// A count past its cap would run for ever (-n, --warmup) or fill memory with the plan (-r).
TEST(RunOptions, CountsAreCappedAndTheMessageSaysTheCap) {
  EXPECT_NE(run_refusal({{"repetitions", "99999999999"}})
                .find("--repetitions: '99999999999' is out of range; expected 1 to 10000"),
            std::string::npos);
  EXPECT_NE(run_refusal({{"iterations", "10001"}}).find("--iterations: '10001' is out of range; expected 1 to 10000"),
            std::string::npos);
  EXPECT_NE(run_refusal({{"warmup", "99999999999"}}).find("--warmup: '99999999999' is out of range; expected 0 to "
                                                          "10000"),
            std::string::npos);
  EXPECT_NE(run_refusal({{"repetitions", "99999999999999999999999"}}).find("expected 1 to 10000"), std::string::npos);
  EXPECT_NE(run_refusal({{"min-time", "1e308"}}).find("--min-time: '1e308' is out of range; expected at most 86400"),
            std::string::npos);
  const RunOptions most = parse_run_options({{"repetitions", "10000"}, {"iterations", "10000"}, {"warmup", "10000"}});
  EXPECT_EQ(most.repetitions, 10000);
  EXPECT_EQ(most.iterations, 10000);
  EXPECT_EQ(most.warmup, 10000);
  EXPECT_DOUBLE_EQ(parse_run_options({{"min-time", "86400"}}).min_time, 86400);
}

TEST(RunOptions, WideIsForTheMarkdownTable) {
  EXPECT_FALSE(parse_run_options({}).wide);
  EXPECT_TRUE(parse_run_options({{"wide", ""}}).wide);
  EXPECT_NE(run_refusal({{"wide", ""}, {"format", "csv"}}).find("--wide widens the md table, and -o csv"),
            std::string::npos);
}

}  // namespace
}  // namespace mlspeed::cli
