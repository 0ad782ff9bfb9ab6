// `mlspeed generate` end to end on the CPU with the tiny GPT-2: ids in, ids out, text through a
// vocabulary written by the test, every bad input refused with exit status 2, and weights from a
// file giving exactly the tokens the in-process Generator gives (so GPT-2's real weights give
// Hugging Face's greedy continuation of "The rain in Spain").
#include <c10/core/Device.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mlspeed/io/weights.h"
#include "mlspeed/workloads/generation.h"
#include "mlspeed/workloads/workload.h"
#include "testing/test_support.h"
#include "testing/tiny_gpt2_vocab.h"

namespace mlspeed {
namespace {

using testing::run_cli;
using testing::TempDir;

// Not stored: the tests of storing name their own database.
std::vector<std::string> tiny(std::vector<std::string> more) {
  std::vector<std::string> args = {"generate", "-w", "gpt2-generate", "--sizes", "tiny", "--no-db"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The one row of `generate -o json` (an array of rows, as every command's json is).
nlohmann::json json_of(const testing::CliResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json rows = nlohmann::json::parse(r.out);
  EXPECT_EQ(rows.size(), 1u) << r.out;
  return rows.at(0);
}

bool warns(const nlohmann::json& row, const std::string& part) {
  return row["warnings"].get<std::string>().find(part) != std::string::npos;
}

TEST(GenerateCommand, TinyGpt2WithIdsGivesTheRequestedIdsDeterministically) {
  const auto a = json_of(run_cli(tiny({"--ids", "1,2,3,4", "-g", "7", "-o", "json"})));
  EXPECT_EQ(a["prompt_ids"], nlohmann::json::array({1, 2, 3, 4}));
  ASSERT_EQ(a["new_ids"].size(), 7u);
  for (const auto& id : a["new_ids"]) {
    EXPECT_GE(id.get<int64_t>(), 0);
    EXPECT_LT(id.get<int64_t>(), 512);
  }
  EXPECT_EQ(a["top2_margins"].size(), 7u);
  EXPECT_GE(a["first_token_ms"].get<double>(), 0);
  EXPECT_GE(a["ms_per_token"].get<double>(), 0);
  EXPECT_EQ(a["weights"], "");
  EXPECT_TRUE(warns(a, "the weights are random")) << a["warnings"];
  EXPECT_EQ(a["text"], "");  // no --vocab: no text

  const auto again = json_of(run_cli(tiny({"--ids", "1,2,3,4", "-g", "7", "-o", "json"})));
  EXPECT_EQ(again["new_ids"], a["new_ids"]);
  const auto other_seed = json_of(run_cli(tiny({"--ids", "1,2,3,4", "-g", "7", "-o", "json", "--seed", "1"})));
  EXPECT_NE(other_seed["new_ids"], a["new_ids"]);
  // A repeated id is a prompt, not a duplicate in a sweep list.
  EXPECT_EQ(json_of(run_cli(tiny({"--ids", "5,5,5", "-g", "2", "-o", "json"})))["prompt_ids"],
            nlohmann::json::array({5, 5, 5}));
}

TEST(GenerateCommand, MarkdownNamesTheIdsTimesAndRandomWeights) {
  const auto r = run_cli(tiny({"--ids", "1,2,3,4", "-g", "5"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gpt2-generate (tiny) on cpu, fp32, weights: random (seed 0)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("prompt ids (4): 1 2 3 4\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("new ids (5): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("time to first token: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" ms/token (4 tokens)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("warning: no --weights: the weights are random"), std::string::npos) << r.out;
}

// A generate run is a run like the others: stored, listed, shown, exported and imported again
// with its ids intact, and refused by compare and report, which take speed runs.
TEST(GenerateCommand, AGenerateRunIsStoredListedShownExportedAndImported) {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const std::vector<std::string> args = {"generate", "-w", "gpt2-generate", "--sizes", "tiny", "--ids", "1,2,3,4",
                                         "-g", "5", "-o", "json", "--db", db, "--label", "greedy"};
  const auto generated = json_of(run_cli(args));
  EXPECT_EQ(testing::count_table_rows(db, "generations"), 1);

  const auto history = run_cli({"history", "--db", db});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("| greedy | generate |"), std::string::npos) << history.out;

  const auto shown = run_cli({"show", "label:greedy", "-o", "json", "--db", db});
  EXPECT_EQ(json_of(shown)["new_ids"], generated["new_ids"]);
  const auto markdown = run_cli({"show", "1", "--db", db});
  ASSERT_EQ(markdown.exit_code, 0) << markdown.err;
  EXPECT_NE(markdown.out.find("prompt ids (4): 1 2 3 4\n"), std::string::npos) << markdown.out;

  const auto exported = run_cli({"export", "1", "--output", dir.file("g.json"), "--db", db});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.err.find("(1 generation, started"), std::string::npos) << exported.err;
  const std::string other = dir.file("other.db");
  const auto imported = run_cli({"import", dir.file("g.json"), "--db", other});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("(1 generation, measured on"), std::string::npos) << imported.out;
  EXPECT_EQ(json_of(run_cli({"show", "last", "-o", "json", "--db", other}))["new_ids"], generated["new_ids"]);
  // `show -o json` of it reads back as a generate run too (the kind from the rows' fields).
  testing::write_file(dir.file("shown.json"), shown.out);
  EXPECT_EQ(json_of(run_cli({"show", dir.file("shown.json"), "-o", "json"}))["new_ids"], generated["new_ids"]);

  const auto compared = run_cli({"compare", "1", "1", "--db", db});
  EXPECT_EQ(compared.exit_code, 2);
  EXPECT_NE(compared.err.find("is a generate run"), std::string::npos) << compared.err;
  const auto report = run_cli({"report", "1", "--output", dir.file("r.md"), "--db", db});
  EXPECT_EQ(report.exit_code, 2);
  EXPECT_NE(report.err.find("is a generate run"), std::string::npos) << report.err;
}

TEST(GenerateCommand, PromptTextRoundTripsThroughAVocabulary) {
  TempDir dir;
  const auto vocab = testing::tiny_gpt2_vocab();
  vocab.write_to(dir.path());
  const auto j =
      json_of(run_cli(tiny({"--vocab", dir.path(), "--prompt", "The rain in Spain", "-g", "6", "-o", "json"})));
  const std::string G = testing::gpt2_space();
  EXPECT_EQ(j["prompt_ids"],
            nlohmann::json::array({vocab.id("The"), vocab.id(G + "rain"), vocab.id(G + "in"), vocab.id(G + "Spain")}));
  ASSERT_EQ(j["new_ids"].size(), 6u);
  const std::string text = j["text"];
  EXPECT_EQ(text.rfind("The rain in Spain", 0), 0u) << text;
  EXPECT_EQ(text, "The rain in Spain" + j["new_text"].get<std::string>());
  // The tiny model's 512 ids outnumber the vocabulary's 269: said once, and unknown ids marked.
  EXPECT_TRUE(warns(j, "has 269 tokens, the model 512")) << j["warnings"];

  const auto md = run_cli(tiny({"--vocab", dir.path(), "--prompt", "The rain in Spain", "-g", "3"}));
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("text: \"The rain in Spain"), std::string::npos) << md.out;
  // Text with no merges at all still round-trips byte by byte.
  const auto odd = json_of(run_cli(tiny({"--vocab", dir.path(), "--prompt", "Ça  va?\n", "-g", "1", "-o", "json"})));
  EXPECT_EQ(odd["text"].get<std::string>().rfind("Ça  va?\n", 0), 0u) << odd["text"];
}

// The M3 Max review's "!!!!" check, end to end: weights from a file give the tokens the in-process Generator
// gives with the same weights. With GPT-2's real model.safetensors this is Hugging Face's greedy
// continuation.
TEST(GenerateCommand, WeightsFromAFileGiveTheInProcessGeneratorsTokens) {
  TempDir dir;
  const std::string path = dir.file("tiny-gpt2.safetensors");
  const Workload* workload = find_workload("gpt2-generate");
  ASSERT_NE(workload, nullptr);
  auto session = workload->open("tiny", c10::Device(c10::kCPU), Precision::fp32, {33});
  save_weights(session->model(), path);
  // "The rain in Spain" is 464 6290 287 8602 in GPT-2; the tiny model has 512 ids: modulo 512.
  const std::vector<int64_t> prompt = {464, 146, 287, 410};
  const std::vector<int64_t> expected = session->generator()->greedy(prompt, 16).tokens;

  // A different --seed: the weights come from the file, not from the seed.
  const auto j = json_of(run_cli(tiny({"--weights", path, "--ids", "464,146,287,410", "--seed", "99", "-o", "json"})));
  EXPECT_EQ(j["new_ids"].get<std::vector<int64_t>>(), expected);
  EXPECT_EQ(j["weights"], path);
  EXPECT_FALSE(warns(j, "random")) << j["warnings"];
  const auto random = json_of(run_cli(tiny({"--ids", "464,146,287,410", "--seed", "99", "-o", "json"})));
  EXPECT_NE(random["new_ids"].get<std::vector<int64_t>>(), expected);
}

TEST(GenerateCommand, OneTokenRepeatedIsFlagged) {
  // Find a seed whose random tiny model repeats one token (common for random weights), then
  // check the warning; a varied output has none.
  bool saw_repeat = false, saw_varied = false;
  for (int seed = 0; seed < 12 && !(saw_repeat && saw_varied); ++seed) {
    const auto j =
        json_of(run_cli(tiny({"--ids", "1,2,3,4", "-g", "6", "-o", "json", "--seed", std::to_string(seed)})));
    const auto ids = j["new_ids"].get<std::vector<int64_t>>();
    const bool repeated = std::all_of(ids.begin(), ids.end(), [&](int64_t id) { return id == ids[0]; });
    const bool warned = warns(j, "one token repeated");
    EXPECT_EQ(warned, repeated) << "seed " << seed << ": " << j.dump();
    (repeated ? saw_repeat : saw_varied) = true;
  }
  EXPECT_TRUE(saw_varied);
}

struct BadCase {
  std::vector<std::string> args;
  std::string expected;
};

class GenerateBadInput : public ::testing::TestWithParam<BadCase> {};

TEST_P(GenerateBadInput, ExitsWithStatus2AndAClearMessage) {
  std::vector<std::string> args = {"generate", "--no-db"};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  const auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Cli, GenerateBadInput,
    ::testing::Values(
        BadCase{{"--sizes", "tiny"}, "no prompt: give --prompt TEXT (with --vocab DIR) or --ids LIST"},
        BadCase{{"--sizes", "tiny", "--prompt", "hi", "--ids", "1"}, "--prompt and --ids: give the prompt one way"},
        BadCase{{"--sizes", "tiny", "--prompt", "hi"}, "--prompt needs --vocab DIR"},
        BadCase{{"--sizes", "tiny", "--ids", "1,600"},
                "--ids: token id 600 is outside the vocabulary of gpt2-generate (tiny), 0 to 511"},
        BadCase{
            {"--sizes", "tiny", "--ids", "1,2,3,4", "-g", "61"},
            "--new-tokens: 4 prompt tokens + 61 new tokens are more than the 64 positions gpt2-generate (tiny) takes"},
        BadCase{{"-w", "bert-base-infer", "--sizes", "tiny", "--ids", "1"},
                "--workload: bert-base-infer does not generate tokens; workloads that generate: "},
        BadCase{{"-w", "gpt9", "--ids", "1"}, "--workload: unknown workload 'gpt9'"},
        BadCase{{"--sizes", "huge", "--ids", "1"}, "--sizes: gpt2-generate has no size 'huge'; its sizes: tiny, full"},
        BadCase{{"--sizes", "tiny", "--ids", "1,,2"}, "--ids: '1,,2' has an empty item"},
        BadCase{{"--sizes", "tiny", "--ids", "one"}, "--ids: 'one' is not a whole number"},
        BadCase{{"--sizes", "tiny", "--ids", "1", "-g", "0"}, "--new-tokens: '0' is out of range"},
        BadCase{{"--sizes", "tiny", "--ids", "1", "-t", "fp8"}, "--dtype: unknown value 'fp8'"},
        BadCase{{"--sizes", "tiny", "--ids", "1", "-t", "tf32"}, "--dtype: tf32 is a tensor-core mode"},
        BadCase{{"--sizes", "tiny", "--ids", "1", "-o", "xml"},
                "--format: unknown format 'xml'; choose from: md, json"},
        BadCase{{"--sizes", "tiny", "--ids", "1", "-d", "cuda:7"}, "no device 'cuda:7'"},
        BadCase{{"--sizes", "tiny", "--ids", "1", "--weights", "/nowhere/model.safetensors"},
                "--weights: /nowhere/model.safetensors does not exist"},
        BadCase{{"--sizes", "tiny", "--prompt", "hi", "--vocab", "/nowhere"}, "--vocab: /nowhere does not exist"},
        BadCase{{"--sizes", "tiny", "--prompt", "", "--vocab", "/nowhere"}, "--prompt: the text is empty"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name = std::to_string(info.index);
      for (const auto& a : info.param.args)
        for (char c : a) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return name;
    });

// A vocabulary file that is not one, and a weights file of another model: exit status 2 and the
// file named.
TEST(GenerateCommand, BadFilesExitWith2AndNameTheFile) {
  TempDir dir;
  testing::write_file(dir.file("encoder.json"), "{\"!\": 0,");
  testing::write_file(dir.file("vocab.bpe"), "#version: 0.2\n");
  const auto r = run_cli(tiny({"--vocab", dir.path(), "--prompt", "hi"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir.file("encoder.json") + ": not valid JSON"), std::string::npos) << r.err;

  const Workload* bert = find_workload("bert-base-infer");
  auto session = bert->open("tiny", c10::Device(c10::kCPU), Precision::fp32, {1});
  save_weights(session->model(), dir.file("bert.safetensors"));
  const auto w = run_cli(tiny({"--weights", dir.file("bert.safetensors"), "--ids", "1"}));
  EXPECT_EQ(w.exit_code, 2);
  EXPECT_NE(w.err.find(dir.file("bert.safetensors") + " does not fit this model"), std::string::npos) << w.err;
}

}  // namespace
}  // namespace mlspeed
