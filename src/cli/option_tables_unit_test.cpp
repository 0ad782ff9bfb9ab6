// Every command's options come from one declarative table each: declared once, with help and a
// default that parses like a typed value, and the whole command line parsed without running.
#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include <set>

#include "cli/commands.h"
#include "testing/command_line.h"

namespace mlspeed::cli {
namespace {

template <class Options> void expect_well_formed(const OptionTable<Options>& table) {
  std::set<std::string> names;
  for (const auto& spec : table) {
    EXPECT_TRUE(names.insert(spec.long_name()).second) << spec.long_name() << " declared twice";
    if (spec.hidden) continue;  // an old spelling, which only says what to type instead
    EXPECT_FALSE(spec.help.empty()) << spec.long_name();
    if (spec.value_name.empty()) EXPECT_FALSE(spec.default_value) << spec.long_name() << ": a flag has no value";
    else EXPECT_FALSE(spec.default_shown().empty()) << spec.long_name() << ": --help must say its default";
  }
  EXPECT_NO_THROW(parse_options(table, {})) << "a default does not parse";
}

TEST(OptionTables, EveryCommandsTableIsWellFormed) {
  expect_well_formed(run_option_table());
  expect_well_formed(verify_option_table());
  expect_well_formed(generate_option_table());
  expect_well_formed(show_option_table());
  expect_well_formed(report_option_table());
  expect_well_formed(history_option_table());
  expect_well_formed(export_option_table());
  expect_well_formed(compare_option_table());
  expect_well_formed(listing_option_table());
}

// The whole command line, parsed as the binary parses it; nothing runs.
using testing::usage_error;
TEST(OptionTables, DefaultsAreValuesNotHelpText) {
  const VerifyOptions v = testing::parse_command_line({"verify"}).options<VerifyOptions>();
  EXPECT_TRUE(v.op_level && v.model_level);
  EXPECT_EQ(v.models.size, "tiny");
  EXPECT_EQ(v.models.precisions, (std::vector<Precision>{Precision::fp32}));
  EXPECT_EQ(v.models.training_steps, 20);
  EXPECT_EQ(v.devices, (std::vector<std::string>{"all"}));
  EXPECT_EQ(v.format, Format::md);
  const GenerateOptions g = testing::parse_command_line({"generate"}).options<GenerateOptions>();
  EXPECT_EQ(g.workload, "gpt2-generate");
  EXPECT_EQ(g.new_tokens, 16);
  EXPECT_FALSE(g.ids || g.prompt);
  const ShowOptions s = testing::parse_command_line({"show"}).options<ShowOptions>();
  EXPECT_EQ(s.run, "last");
  EXPECT_TRUE(s.db.empty());
  const RunOptions r = testing::parse_command_line({"run"}).options<RunOptions>();
  EXPECT_TRUE(r.batches.empty()) << "'each workload's own' is help, not a value";
  EXPECT_FALSE(r.threads);
}

TEST(OptionTables, PrecisionsHaveOneSpellingAndTakeTheLongNames) {
  EXPECT_EQ(testing::parse_command_line({"verify", "--model-dtypes", "bfloat16,float32"}).options<VerifyOptions>().models.precisions,
            (std::vector<Precision>{Precision::bf16, Precision::fp32}));
  EXPECT_EQ(testing::parse_command_line({"run", "-t", "float16"}).options<RunOptions>().dtypes, (std::vector<Precision>{Precision::fp16}));
  EXPECT_EQ(testing::parse_command_line({"generate", "-t", "bfloat16"}).options<GenerateOptions>().precision, Precision::bf16);
  EXPECT_NE(usage_error({"run", "-t", "bf16,bfloat16"}).find("already listed"), std::string::npos);
}

TEST(OptionTables, ValuesAreParsedIntoTypes) {
  const Invocation i =
      testing::parse_command_line({"verify", "--level", "op", "--steps", "25", "--seed", "7", "-o", "jsonl", "--strict"});
  EXPECT_EQ(i.command, "verify");
  const VerifyOptions& verify = i.options<VerifyOptions>();
  EXPECT_TRUE(verify.op_level);
  EXPECT_FALSE(verify.model_level);
  EXPECT_EQ(verify.models.training_steps, 25);
  EXPECT_EQ(verify.ops.seed, 7u);
  EXPECT_EQ(verify.models.seed, 7u);
  EXPECT_EQ(verify.format, Format::jsonl);
  EXPECT_TRUE(verify.strict);
  EXPECT_EQ(testing::parse_command_line({"generate", "--ids", "464,6290,464"}).options<GenerateOptions>().ids, (std::vector<int64_t>{464, 6290, 464}));
  EXPECT_EQ(testing::parse_command_line({"show", "12", "-o", "csv"}).options<ShowOptions>().run, "12");
}

TEST(OptionTables, FormatIsValidatedOneWayWithEachCommandsChoices) {
  EXPECT_NE(usage_error({"run", "-o", "xml"}).find("--format: unknown format 'xml'; choose from: md, json, jsonl, csv"),
            std::string::npos);
  EXPECT_NE(usage_error({"verify", "-o", "xml"}).find("choose from: md, json, jsonl, csv"), std::string::npos);
  EXPECT_NE(usage_error({"show", "-o", "xml"}).find("choose from: md, json, jsonl, csv"), std::string::npos);
  EXPECT_NE(usage_error({"history", "-o", "jsonl"}).find("--format: unknown format 'jsonl'; choose from: md, json, csv"),
            std::string::npos);
  EXPECT_NE(usage_error({"devices", "-o", "csv"}).find("--format: unknown format 'csv'; choose from: md, json"),
            std::string::npos);
}

TEST(OptionTables, BadInputIsAUsageErrorBeforeAnythingRuns) {
  EXPECT_NE(usage_error({"frobnicate"}).find("unknown command 'frobnicate'"), std::string::npos);
  EXPECT_NE(usage_error({"show", "--wide", "-o", "json"}).find("--wide"), std::string::npos);
  EXPECT_NE(usage_error({"verify", "--steps", "0"}).find("--steps"), std::string::npos);
  EXPECT_NE(usage_error({"verify", "--inject-fault", ""}).find("the fault name is empty"), std::string::npos);
  EXPECT_NE(usage_error({"verify", "--level", "op", "--level", "model"}).find("--level was given 2 times"),
            std::string::npos);
  EXPECT_NE(usage_error({"generate", "--ids", "1,,2"}).find("empty item"), std::string::npos);
  EXPECT_THROW(testing::parse_command_line({"run", "--help"}), CLI::CallForHelp);
  EXPECT_NE(usage_error({"history", "--since", "2026-02-31"}).find("--since: '2026-02-31' is not a date"),
            std::string::npos);
  EXPECT_THROW(testing::parse_command_line({"--bogus"}), CLI::ParseError);
}

// verify's and generate's counts are capped as run's are, the cap in the message.
TEST(OptionTables, VerifyAndGenerateCountsAreCapped) {
  EXPECT_NE(usage_error({"verify", "--steps", "99999999999"}).find("--steps: '99999999999' is out of range; expected "
                                                                    "20 to 10000"),
            std::string::npos);
  EXPECT_NE(usage_error({"verify", "--steps", "5"}).find("expected 20 to 10000"), std::string::npos);
  EXPECT_EQ(testing::parse_command_line({"verify", "--steps", "10000"}).options<VerifyOptions>().models.training_steps, 10000);
  EXPECT_NE(usage_error({"generate", "--ids", "1", "-g", "99999999999"}).find("--new-tokens: '99999999999' is out of range; "
                                                                 "expected 1 to 16777216"),
            std::string::npos);
  EXPECT_EQ(testing::parse_command_line({"generate", "--ids", "1", "-g", "16777216"}).options<GenerateOptions>().new_tokens, 16777216);
}

}  // namespace
}  // namespace mlspeed::cli
