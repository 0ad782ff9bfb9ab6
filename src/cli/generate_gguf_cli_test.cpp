// `mlspeed generate --model FILE.gguf` end to end on the CPU with small GGUF files of random
// weights (quantize random:tiny, and a tiny model with 512 positions written here, since a chat
// question in the synthetic vocabulary is longer than random:tiny's 64): the prompt tokenised by
// the file's vocabulary, the same tokens as the Generator of `run --model`, EOS ending an answer,
// the 20 bundled questions as 20 rows with their summary, Ctrl-C keeping the rows done, and every
// bad combination one line with exit status 2.
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/Device.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mlspeed/io/gguf.h"
#include "mlspeed/models/llama_gguf_tokenizer.h"
#include "mlspeed/models/llama_gguf_write.h"
#include "mlspeed/workloads/gguf_generate.h"
#include "mlspeed/workloads/llama2_generate.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::contains;
using testing::run_cli;
using testing::TempDir;

std::vector<nlohmann::json> gguf_jsonl_rows(const testing::CliResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> rows;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::string quantized_tiny(const TempDir& dir) {
  const std::string path = dir.file("tiny-chat.gguf");
  const auto q = run_cli({"quantize", "random:tiny", path, "--type", "q4_0"});
  EXPECT_EQ(q.exit_code, 0) << q.err;
  return path;
}

// llama2-7b-generate's tiny shape with 512 positions and the synthetic vocabulary, `eos` its
// end-of-sequence id; the same weights for the same seed.
std::string chat_gguf(const TempDir& dir, const std::string& name, int32_t eos = 2) {
  llama::LlamaConfig config = llama::generate_config("tiny");
  config.vocab_size = 320;
  config.max_position_embeddings = 512;
  llama::LlamaForCausalLM model(config);
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(7));
  llama::GgufVocabulary vocabulary = llama::synthetic_vocabulary(config.vocab_size);
  vocabulary.eos = eos;
  llama::GgufWriteOptions options;
  options.format = ModelFormat::q8_0;
  const std::string path = dir.file(name);
  llama::write_gguf(model, vocabulary, options, path);
  return path;
}

std::vector<std::string> gguf_generate(const std::string& model, std::vector<std::string> more) {
  return testing::with({"generate", "--model", model, "-d", "cpu", "--no-db"}, more);
}

TEST(GenerateGguf, APromptIsTokenisedByTheFileAndTimedAsARow) {
  TempDir dir;
  const std::string path = quantized_tiny(dir);
  const auto rows =
      gguf_jsonl_rows(run_cli(gguf_generate(path, {"--prompt", "hello world", "-g", "4", "-o", "jsonl"})));
  ASSERT_EQ(rows.size(), 1u);
  const auto& row = rows[0];
  EXPECT_EQ(row["status"], "ok") << row["message"];
  EXPECT_EQ(row["workload"], "tiny-chat");
  EXPECT_EQ(row["weights"], path);
  EXPECT_EQ(row["weight_format"], "q4_0");
  EXPECT_EQ(row["prompt_text"], "hello world");
  EXPECT_EQ(row["chat_template"], "");
  EXPECT_EQ(row["question"], 0);

  // The file's tokenizer: BOS first, as llama.cpp.
  const auto tokenizer = llama::read_gguf_tokenizer(gguf::File(path));
  const std::vector<int64_t> prompt = tokenizer.encode("hello world");
  EXPECT_EQ(row["prompt_ids"].get<std::vector<int64_t>>(), prompt);
  EXPECT_EQ(prompt.front(), 1);
  EXPECT_EQ(row["prompt_tokens"], prompt.size());

  // The tokens `run --model`'s Generator gives, up to the end of the answer.
  auto session = make_gguf_generate(path)->open("full", c10::Device(c10::kCPU), Precision::fp32, {});
  const std::vector<int64_t> greedy = session->generator()->greedy(prompt, 4).tokens;
  const auto ids = row["new_ids"].get<std::vector<int64_t>>();
  ASSERT_GE(ids.size(), 1u);
  EXPECT_EQ(ids, std::vector<int64_t>(greedy.begin(), greedy.begin() + ids.size()));
  EXPECT_EQ(row["new_tokens"], ids.size());
  const bool eos = ids.back() == 2;
  EXPECT_EQ(row["stopped_by"], eos ? "eos" : "limit");
  if (!eos) EXPECT_EQ(ids.size(), 4u);

  EXPECT_GT(row["first_token_ms"].get<double>(), 0);
  EXPECT_GT(row["prompt_tokens_per_s"].get<double>(), 0);
  if (ids.size() > 1) EXPECT_GT(row["generation_tokens_per_s"].get<double>(), 0);
  EXPECT_NEAR(row["prompt_tokens_per_s"].get<double>(), prompt.size() / (row["first_token_ms"].get<double>() / 1e3),
              1e-6 * row["prompt_tokens_per_s"].get<double>());
  EXPECT_EQ(row["text"].get<std::string>().rfind("hello world", 0), 0u) << row["text"];
  EXPECT_TRUE(contains(row["warnings"], "the weights in " + path + " are random")) << row["warnings"];
  EXPECT_FALSE(contains(row["warnings"], "no --weights")) << row["warnings"];
}

TEST(GenerateGguf, ChatWrapsThePromptAndMarkdownPrintsTheAnswer) {
  TempDir dir;
  const std::string path = quantized_tiny(dir);
  const auto plain = gguf_jsonl_rows(run_cli(gguf_generate(path, {"--prompt", "hi", "-g", "2", "-o", "jsonl"})));
  const auto chat =
      gguf_jsonl_rows(run_cli(gguf_generate(path, {"--prompt", "hi", "--chat", "-g", "2", "-o", "jsonl"})));
  const auto system = gguf_jsonl_rows(
      run_cli(gguf_generate(path, {"--prompt", "hi", "--system", "be brief", "-g", "2", "-o", "jsonl"})));
  ASSERT_EQ(chat.size(), 1u);
  ASSERT_EQ(system.size(), 1u);
  const auto tokenizer = llama::read_gguf_tokenizer(gguf::File(path));
  EXPECT_EQ(chat[0]["chat_template"], "llama-2");
  EXPECT_EQ(chat[0]["prompt_text"], "hi");
  EXPECT_EQ(chat[0]["prompt_ids"].get<std::vector<int64_t>>(), tokenizer.encode("[INST] hi [/INST]"));
  EXPECT_EQ(system[0]["prompt_ids"].get<std::vector<int64_t>>(),
            tokenizer.encode("[INST] <<SYS>>\nbe brief\n<</SYS>>\n\nhi [/INST]"));
  EXPECT_LT(plain[0]["prompt_tokens"].get<int64_t>(), chat[0]["prompt_tokens"].get<int64_t>());

  const auto md = run_cli(gguf_generate(path, {"--prompt", "hi", "--chat", "-g", "3"}));
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_TRUE(contains(md.out, "tiny-chat (full) on cpu, fp32, weights: " + path + " (q4_0)\n")) << md.out;
  EXPECT_TRUE(contains(md.out, "prompt (llama-2 chat template): \"hi\"\nanswer:\n    ")) << md.out;
  EXPECT_TRUE(contains(md.out, "\nprompt processing: ")) << md.out;
  EXPECT_TRUE(contains(md.out, "\ngeneration: ")) << md.out;
  EXPECT_TRUE(contains(md.out, " tokens/s (")) << md.out;
}

// A file whose EOS is the third token the model gives: the answer ends there, as a chat model's
// does, and the row says so.
TEST(GenerateGguf, TheEndOfSequenceTokenEndsTheAnswer) {
  TempDir dir;
  const auto free = gguf_jsonl_rows(
      run_cli(gguf_generate(chat_gguf(dir, "free.gguf"), {"--prompt", "hello", "-g", "8", "-o", "jsonl"})));
  ASSERT_EQ(free.size(), 1u);
  const auto ids = free[0]["new_ids"].get<std::vector<int64_t>>();
  ASSERT_EQ(free[0]["stopped_by"], "limit") << "the seed's model should not give token 2 within 8 tokens";
  ASSERT_EQ(ids.size(), 8u);
  const int64_t eos = ids[2];
  const size_t end = static_cast<size_t>(std::find(ids.begin(), ids.end(), eos) - ids.begin());

  const std::string ending = chat_gguf(dir, "ending.gguf", static_cast<int32_t>(eos));
  const auto ended = gguf_jsonl_rows(run_cli(gguf_generate(ending, {"--prompt", "hello", "-g", "8", "-o", "jsonl"})));
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0]["new_ids"].get<std::vector<int64_t>>(), std::vector<int64_t>(ids.begin(), ids.begin() + end + 1));
  EXPECT_EQ(ended[0]["stopped_by"], "eos");
  EXPECT_EQ(ended[0]["new_tokens"], end + 1);
  const auto md = run_cli(gguf_generate(ending, {"--prompt", "hello", "-g", "8"}));
  EXPECT_TRUE(contains(md.out, "generation: " + std::to_string(end + 1) + " new tokens, ")) << md.out;
  EXPECT_TRUE(contains(md.out, " (ended by EOS)\n")) << md.out;
}

TEST(GenerateGguf, TheQuestionsAreTwentyChatRowsWithASummary) {
  TempDir dir;
  const std::string path = chat_gguf(dir, "chat.gguf");
  const auto rows = gguf_jsonl_rows(run_cli(gguf_generate(path, {"--questions", "-r", "1", "-g", "2", "-o", "jsonl"})));
  ASSERT_EQ(rows.size(), 20u);
  std::set<std::string> asked;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["status"], "ok") << rows[i]["message"];
    EXPECT_EQ(rows[i]["question"], i + 1);
    EXPECT_EQ(rows[i]["repetition"], 1);
    EXPECT_EQ(rows[i]["chat_template"], "llama-2");
    EXPECT_LE(rows[i]["new_tokens"].get<int64_t>(), 2);
    EXPECT_GT(rows[i]["prompt_tokens_per_s"].get<double>(), 0);
    asked.insert(rows[i]["prompt_text"].get<std::string>());
  }
  EXPECT_EQ(asked.size(), 20u) << "twenty different questions";

  // Each question -r times in a row; stored, and shown again as the table with its summary.
  const std::string db = dir.file("q.db");
  const auto twice = run_cli({"generate", "--model", path, "-d", "cpu", "--questions", "-r", "2", "-g", "2", "-o",
                              "jsonl", "--db", db});
  const auto stored = gguf_jsonl_rows(twice);
  ASSERT_EQ(stored.size(), 40u);
  EXPECT_EQ(stored[1]["question"], 1);
  EXPECT_EQ(stored[1]["repetition"], 2);
  EXPECT_EQ(stored[2]["question"], 2);
  EXPECT_EQ(stored[1]["prompt_ids"], stored[0]["prompt_ids"]);
  EXPECT_EQ(testing::count_table_rows(db, "generations"), 40);
  const auto shown = run_cli({"show", "last", "--db", db});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_TRUE(contains(shown.out, "|   # | question ")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "|  20 | What are the stages of building a house,... |   2 |     ")) << shown.out;
  EXPECT_TRUE(contains(shown.out, " | limit |\n")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "\n40 answers: ")) << shown.out;
  const size_t summary = shown.out.find("| tokens/s          |");
  ASSERT_NE(summary, std::string::npos) << shown.out;
  const std::string titles = shown.out.substr(summary, shown.out.find('\n', summary) - summary);
  EXPECT_TRUE(contains(titles, " mean |") && contains(titles, " median |")) << titles;
  EXPECT_TRUE(contains(shown.out, "| prompt processing |")) << shown.out;
  EXPECT_TRUE(contains(shown.out, "| generation        |")) << shown.out;
}

TEST(GenerateGguf, CtrlCKeepsTheAnswersDone) {
  TempDir dir;
  const std::string path = chat_gguf(dir, "chat.gguf");
  const std::string db = dir.file("c.db");
  testing::Child child({"generate", "--model", path, "-d", "cpu", "--questions", "-r", "100", "-g", "400", "-o",
                        "jsonl", "--db", db});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (testing::count_table_rows(db, "generations") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE(testing::count_table_rows(db, "generations"), 1) << "no answer was stored within a minute";
  child.signal(SIGINT);
  const auto r = child.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  size_t printed = 0;
  for (char c : r.out) printed += c == '\n';
  ASSERT_GE(printed, 1u);
  ASSERT_LT(printed, 2000u);
  EXPECT_EQ(testing::count_table_rows(db, "generations"), static_cast<int64_t>(printed));
  EXPECT_TRUE(contains(r.err, "interrupted after " + std::to_string(printed) + " of 2000 generations")) << r.err;
}

TEST(GenerateGguf, BadCombinationsAndFilesAreOneLineAndStatus2) {
  TempDir dir;
  const std::string model = quantized_tiny(dir);
  testing::write_file(dir.file("notes.txt"), "not a model\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--model", model, "--prompt", "hi", "-w", "gpt2-generate"}, "--workload is for a catalogue workload"},
      {{"--model", model, "--prompt", "hi", "--sizes", "tiny"}, "--sizes is for a catalogue workload"},
      {{"--model", model, "--prompt", "hi", "--weights", model}, "--weights is for a catalogue workload"},
      {{"--model", model, "--prompt", "hi", "--vocab", dir.path()}, "--vocab is for a catalogue workload"},
      {{"--model", model, "--ids", "1,2"}, "--ids is for a catalogue workload"},
      {{"--model", model, "--prompt", "hi", "--seed", "3"}, "--seed is for a catalogue workload"},
      {{"--model", model}, "no prompt: with --model give --prompt TEXT, or --questions"},
      {{"--model", model, "--prompt", "hi", "--questions"}, "--questions asks the bundled questions"},
      {{"--model", model, "--prompt", "hi", "-r", "2"}, "--repetitions counts the times"},
      {{"--model", model, "--questions", "-r", "0"}, "--repetitions: '0' is out of range"},
      {{"--model", model, "--prompt", "hi", "--system", ""}, "--system: the text is empty"},
      {{"--model", model, "--prompt", "hi", "-g", "62"},
       "--new-tokens: 3 prompt tokens + 62 new tokens are more than the 64 positions " + model + " takes"},
      {{"--model", model, "--questions"}, "tokens of the longest question fill the 64 positions"},
      {{"--model", model, "--prompt", "hi", "-t", "tf32"}, "--dtype: tf32 is a tensor-core mode"},
      {{"--model", model, "--prompt", "hi", "-d", "cuda:7"}, "no device 'cuda:7'"},
      {{"--prompt", "hi", "--chat", "--sizes", "tiny"}, "--chat needs --model FILE.gguf"},
      {{"--questions"}, "--questions needs --model FILE.gguf"},
      {{"--ids", "1", "--system", "x"}, "--system needs --model FILE.gguf"},
      {{"--model", dir.file("missing.gguf"), "--prompt", "hi"}, "--model: " + dir.file("missing.gguf") + " does not"},
      {{"--model", dir.file("notes.txt"), "--prompt", "hi"}, dir.file("notes.txt") + ": "},
  };
  for (const auto& [args, expected] : cases) {
    const auto r = run_cli(testing::with({"generate", "--no-db"}, args));
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_TRUE(contains(r.err, expected)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

}  // namespace
}  // namespace mlspeed
