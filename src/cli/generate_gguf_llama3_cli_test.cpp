// `mlspeed generate --model FILE.gguf` end to end on GGUF files with a byte-level ("gpt2")
// vocabulary laid out as Llama 3's: a tiny model of random weights written here with
// testing/tiny_llama3_vocab.h's hand-made vocabulary, whose encodings are worked out by hand (see
// text/byte_bpe_tokenizer_unit_test.cpp). The prompt is tokenised by it (BOS, the pre-tokens of
// Llama 3's pattern, the merges), --chat wraps it in Llama 3's template, the answer is printed as
// text and ends at <|eot_id|>, and a pre-tokenizer mlspeed lacks is one line with exit status 2.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/models/llama_gguf_write.h"
#include "mlspeed/workloads/llama2_generate.h"
#include "testing/test_support.h"
#include "testing/text.h"
#include "testing/tiny_llama3_vocab.h"

namespace mlspeed {
namespace {

using testing::contains;
using testing::run_cli;
using testing::TempDir;
using Ids = std::vector<int64_t>;

// llama2-7b-generate's tiny shape with 512 positions and `vocabulary`; the same weights for the
// same vocabulary size.
std::string llama3_gguf(const TempDir& dir, const std::string& name, const llama::GgufVocabulary& vocabulary) {
  llama::LlamaConfig config = llama::generate_config("tiny");
  config.vocab_size = static_cast<int64_t>(vocabulary.tokens.size());
  config.max_position_embeddings = 512;
  llama::LlamaForCausalLM model(config);
  model->init_weights(at::make_generator<at::CPUGeneratorImpl>(7));
  llama::GgufWriteOptions options;
  options.format = ModelFormat::q8_0;
  options.name = "mlspeed random llama3-test";
  const std::string path = dir.file(name);
  llama::write_gguf(model, vocabulary, options, path);
  return path;
}

nlohmann::json one_row(const testing::CliResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> rows;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  EXPECT_EQ(rows.size(), 1u) << r.out;
  return rows.empty() ? nlohmann::json::object() : rows[0];
}

std::vector<std::string> generate(const std::string& model, const std::vector<std::string>& more) {
  return testing::with({"generate", "--model", model, "-d", "cpu", "--no-db"}, more);
}

Ids concat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(GenerateGgufLlama3, APromptIsTokenisedByTheByteLevelVocabularyAndAnswered) {
  TempDir dir;
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const std::string path = llama3_gguf(dir, "llama3.gguf", hand.gguf());
  const auto row = one_row(run_cli(generate(path, {"--prompt", "I'm sure they'll", "-g", "4", "-o", "jsonl"})));
  EXPECT_EQ(row["status"], "ok") << row["message"];
  EXPECT_EQ(row["chat_template"], "");
  // BOS (llama-bpe adds it), "I", "'m", " sure" (no merge joins its bytes), " they", "'ll".
  const Ids prompt = concat({{hand.id("<|begin_of_text|>"), hand.id("I"), hand.id("'m")},
                             {hand.id(" "), hand.id("s"), hand.id("u"), hand.id("r"), hand.id("e")},
                             {hand.id(" they"), hand.id("'ll")}});
  EXPECT_EQ(row["prompt_ids"].get<Ids>(), prompt);
  EXPECT_EQ(row["prompt_tokens"], prompt.size());
  const Ids ids = row["new_ids"].get<Ids>();
  ASSERT_GE(ids.size(), 1u);
  // The text: the prompt's tokens and the answer's, special tokens as their text.
  EXPECT_EQ(row["text"].get<std::string>().rfind("<|begin_of_text|>I'm sure they'll", 0), 0u) << row["text"];
  EXPECT_EQ(row["text"].get<std::string>(), "<|begin_of_text|>I'm sure they'll" + row["new_text"].get<std::string>());
  EXPECT_TRUE(contains(row["warnings"], "are random")) << row["warnings"];

  const auto md = run_cli(generate(path, {"--prompt", "I'm sure they'll", "-g", "4"}));
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_TRUE(contains(md.out, "prompt: \"I'm sure they'll\"\nanswer:\n    ")) << md.out;
  EXPECT_TRUE(contains(md.out, "\ngeneration: ")) << md.out;
}

// `quantize` writes a Llama 3 file again in another type with its whole vocabulary (merges, the
// pre-tokenizer, its special ids): the same prompt gives the same ids from both files.
TEST(GenerateGgufLlama3, RequantisingKeepsTheVocabulary) {
  TempDir dir;
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const std::string q8 = llama3_gguf(dir, "llama3.gguf", hand.gguf());
  const std::string q4 = dir.file("llama3-q4_0.gguf");
  const auto q = run_cli({"quantize", q8, q4, "--type", "q4_0"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  const std::vector<std::string> prompt = {"--prompt", "I'm sure they'll", "-g", "1", "-o", "jsonl"};
  const auto before = one_row(run_cli(generate(q8, prompt)));
  const auto after = one_row(run_cli(generate(q4, prompt)));
  EXPECT_EQ(after["prompt_ids"], before["prompt_ids"]);
  EXPECT_EQ(after["weight_format"], "q4_0");
  const std::vector<std::string> chat = {"--prompt", "hi", "--chat", "-g", "1", "-o", "jsonl"};
  EXPECT_EQ(one_row(run_cli(generate(q4, chat)))["chat_template"], "llama-3");
}

TEST(GenerateGgufLlama3, ChatUsesLlama3sTemplate) {
  TempDir dir;
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const std::string path = llama3_gguf(dir, "llama3.gguf", hand.gguf());
  const auto bytes = [&](const std::string& text) {
    Ids ids;
    for (char b : text) ids.push_back(hand.id(std::string(1, b)));
    return ids;
  };
  const int64_t start = hand.id("<|start_header_id|>"), end = hand.id("<|end_header_id|>"),
                eot = hand.id("<|eot_id|>"), bos = hand.id("<|begin_of_text|>");
  // <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>
  // <|start_header_id|>assistant<|end_header_id|>\n\n: "\n\n" one token (merge 11), the words bytes.
  const Ids chat = concat({{bos, start}, bytes("user"), {end, hand.id("\n\n"), hand.id("h"), hand.id("i"), eot, start},
                           bytes("assistant"), {end, hand.id("\n\n")}});
  const auto row = one_row(run_cli(generate(path, {"--prompt", "hi", "--chat", "-g", "2", "-o", "jsonl"})));
  EXPECT_EQ(row["chat_template"], "llama-3");
  EXPECT_EQ(row["prompt_text"], "hi");
  EXPECT_EQ(row["prompt_ids"].get<Ids>(), chat);
  // --system adds the system turn first: "\n\n" and "Be" are one stretch of text.
  const auto system = one_row(run_cli(generate(path, {"--prompt", "hi", "--system", "Be", "-g", "2", "-o", "jsonl"})));
  EXPECT_EQ(system["prompt_ids"].get<Ids>(),
            concat({{bos, start}, bytes("system"), {end, hand.id("\n\n"), hand.id("B"), hand.id("e"), eot},
                    Ids(chat.begin() + 1, chat.end())}));

  const auto md = run_cli(generate(path, {"--prompt", "hi", "--chat", "-g", "2"}));
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_TRUE(contains(md.out, "prompt (llama-3 chat template): \"hi\"\nanswer:\n")) << md.out;
}

// The vocabulary with the texts (and types) of two tokens swapped, so that the model's third new
// token is <|eot_id|>: its answer ends there, as a Llama 3 chat model's does.
TEST(GenerateGgufLlama3, TheEndOfTurnTokenEndsTheAnswer) {
  TempDir dir;
  const testing::TinyLlama3Vocab hand = testing::tiny_llama3_vocab();
  const llama::GgufVocabulary free_vocabulary = hand.gguf();
  const std::vector<std::string> prompt = {"--prompt", "hello", "-g", "8", "-o", "jsonl"};
  const auto free = one_row(run_cli(generate(llama3_gguf(dir, "free.gguf", free_vocabulary), prompt)));
  const Ids ids = free["new_ids"].get<Ids>();
  const Ids prompt_ids = free["prompt_ids"].get<Ids>();
  ASSERT_EQ(free["stopped_by"], "limit") << "the seed's model should not end its answer within 8 tokens";
  // The first new token that is a normal token and not in the prompt becomes <|eot_id|>.
  size_t at = 0;
  while (at < ids.size() && (free_vocabulary.types[size_t(ids[at])] != 1 ||
                             std::count(prompt_ids.begin(), prompt_ids.end(), ids[at]) > 0))
    ++at;
  ASSERT_LT(at, ids.size()) << "no new token to turn into <|eot_id|>";
  llama::GgufVocabulary swapped = free_vocabulary;
  const size_t eot = size_t(hand.id("<|eot_id|>")), other = size_t(ids[at]);
  std::swap(swapped.tokens[eot], swapped.tokens[other]);
  std::swap(swapped.types[eot], swapped.types[other]);

  const auto ended = one_row(run_cli(generate(llama3_gguf(dir, "ended.gguf", swapped), prompt)));
  EXPECT_EQ(ended["prompt_ids"].get<Ids>(), prompt_ids);
  EXPECT_EQ(ended["new_ids"].get<Ids>(), Ids(ids.begin(), ids.begin() + at + 1));
  EXPECT_EQ(ended["stopped_by"], "eos");
  const std::string text = ended["new_text"].get<std::string>(), end_of_turn = "<|eot_id|>";
  EXPECT_TRUE(text.size() >= end_of_turn.size() &&
              text.compare(text.size() - end_of_turn.size(), end_of_turn.size(), end_of_turn) == 0)
      << "the answer shows the token that ended it: " << text;
}

TEST(GenerateGgufLlama3, APreTokenizerMlspeedLacksIsOneLineAndStatus2) {
  TempDir dir;
  llama::GgufVocabulary v = testing::tiny_llama3_vocab().gguf();
  v.pre = "qwen2";
  const std::string path = llama3_gguf(dir, "qwen.gguf", v);
  const auto r = run_cli(generate(path, {"--prompt", "hi"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, path + ": tokenizer.ggml.pre is 'qwen2', a pre-tokenizer mlspeed does not have; it has "
                                     "'llama-bpe'"))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

}  // namespace
}  // namespace mlspeed
