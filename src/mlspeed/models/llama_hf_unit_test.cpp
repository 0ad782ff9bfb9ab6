// A Hugging Face Llama checkpoint folder read for `quantize` without building a model: config.json
// into a LlamaConfig (transformers' defaults for the keys older configs lack, every other gap or
// wrong type refused by file and key), the weight files found (one file, or the shards an index
// names), and tokenizer.json into the GGUF vocabulary llama.cpp's converter writes (LlamaHfVocab:
// tokens in id order with the added ones, byte/control/unknown/user-defined types, scores from the merges' ranks),
// Llama 3's byte-level vocabulary refused as not yet supported.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/models/llama_hf.h"
#include "mlspeed/models/llama_hf_vocabulary.h"
#include "mlspeed/text/llama_tokenizer.h"
#include "testing/test_support.h"
#include "testing/tiny_hf_llama.h"

namespace mlspeed::llama {
namespace {

using nlohmann::json;
using testing::kTinyHfBase;

LlamaConfig hf_test_config() {
  LlamaConfig c;
  c.vocab_size = 320;
  c.hidden_size = 64;
  c.intermediate_size = 96;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 32;
  c.rope_theta = 500000.0;
  c.rms_norm_eps = 1e-6;
  return c;
}

// A folder with config.json, tokenizer.json and an empty model.safetensors (nothing here reads it).
void write_folder(const std::string& folder, const json& config, const json& tokenizer) {
  make_directories(folder);
  testing::write_file(folder + "/config.json", config.dump());
  testing::write_file(folder + "/tokenizer.json", tokenizer.dump());
  testing::write_file(folder + "/model.safetensors", "");
}

// The InputFileError message of reading the checkpoint at `path` and its vocabulary ("" if none).
std::string checkpoint_error(const std::string& path) {
  try {
    read_hf_vocabulary(open_hf_checkpoint(path));
  } catch (const InputFileError& e) {
    return e.what();
  }
  return "";
}

TEST(LlamaHf, ConfigJsonGivesTheConfigWithTransformersDefaults) {
  testing::TempDir dir;
  json config = testing::tiny_hf_config(hf_test_config());
  write_folder(dir.file("ckpt"), config, testing::tiny_hf_tokenizer());
  const HfCheckpoint c = open_hf_checkpoint(dir.file("ckpt"));
  EXPECT_EQ(c.name, "ckpt");
  EXPECT_EQ(c.weight_files, std::vector<std::string>{dir.file("ckpt/model.safetensors")});
  EXPECT_EQ(c.config.hidden_size, 64);
  EXPECT_EQ(c.config.num_key_value_heads, 2);
  EXPECT_DOUBLE_EQ(c.config.rope_theta, 500000.0);
  EXPECT_DOUBLE_EQ(c.config.rms_norm_eps, 1e-6);
  EXPECT_FALSE(c.tied_embeddings);
  // Llama 2's config.json has no rope_theta; Llama 1's none of num_key_value_heads.
  config.erase("rope_theta");
  config.erase("num_key_value_heads");
  config["tie_word_embeddings"] = true;
  write_folder(dir.file("old"), config, testing::tiny_hf_tokenizer());
  const HfCheckpoint old = open_hf_checkpoint(dir.file("old/model.safetensors"));  // the file given, not the folder
  EXPECT_EQ(old.folder, dir.file("old"));
  EXPECT_DOUBLE_EQ(old.config.rope_theta, 10000.0);
  EXPECT_EQ(old.config.num_key_value_heads, 4);
  EXPECT_TRUE(old.tied_embeddings);
}

TEST(LlamaHf, AMissingOrWrongConfigKeyIsNamedWithTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("c/config.json");
  const auto error_with = [&](const std::function<void(json&)>& change) {
    json config = testing::tiny_hf_config(hf_test_config());
    change(config);
    write_folder(dir.file("c"), config, testing::tiny_hf_tokenizer());
    return checkpoint_error(dir.file("c"));
  };
  EXPECT_EQ(error_with([](json& c) { c.erase("hidden_size"); }),
            path + ": \"hidden_size\" is missing (a LlamaConfig key quantize needs)");
  EXPECT_EQ(error_with([](json& c) { c["intermediate_size"] = "96"; }),
            path + ": \"intermediate_size\" is \"96\", not a whole number from 1 to 2147483647");
  EXPECT_EQ(error_with([](json& c) { c["num_hidden_layers"] = 2.5; }),
            path + ": \"num_hidden_layers\" is 2.5, not a whole number from 1 to 2147483647");
  EXPECT_EQ(error_with([](json& c) { c["vocab_size"] = nullptr; }),
            path + ": \"vocab_size\" is missing (a LlamaConfig key quantize needs)");
  EXPECT_EQ(error_with([](json& c) { c["rms_norm_eps"] = -1; }), path + ": \"rms_norm_eps\" is -1, not a positive number");
  EXPECT_EQ(error_with([](json& c) { c["tie_word_embeddings"] = 1; }),
            path + ": \"tie_word_embeddings\" is 1, not true or false");
  EXPECT_EQ(error_with([](json& c) { c["num_attention_heads"] = 3; }),
            path + ": \"hidden_size\" 64 does not split into 3 heads (\"num_attention_heads\") of an even size");
  EXPECT_EQ(error_with([](json& c) { c["num_key_value_heads"] = 3; }),
            path + ": \"num_key_value_heads\" 3 does not divide \"num_attention_heads\" 4");
  EXPECT_NE(error_with([](json& c) { c["model_type"] = "gpt2"; }).find("\"model_type\" is \"gpt2\"; quantize reads"),
            std::string::npos);
  EXPECT_NE(error_with([](json& c) { c["rope_scaling"] = {{"rope_type", "llama3"}}; }).find("\"rope_scaling\" is {"),
            std::string::npos);
  // Not JSON: the byte and line where reading stopped.
  write_folder(dir.file("c"), testing::tiny_hf_config(hf_test_config()), testing::tiny_hf_tokenizer());
  testing::write_file(path, "{\"hidden_size\": 64,\n");
  EXPECT_EQ(checkpoint_error(dir.file("c")).rfind(path + ": ", 0), 0u);
  EXPECT_NE(checkpoint_error(dir.file("c")).find("line 2"), std::string::npos) << checkpoint_error(dir.file("c"));
}

TEST(LlamaHf, ShardsAreTheFilesTheIndexNamesAndEachMustExist) {
  testing::TempDir dir;
  const std::string folder = dir.file("s");
  write_folder(folder, testing::tiny_hf_config(hf_test_config()), testing::tiny_hf_tokenizer());
  remove_tree(folder + "/model.safetensors");
  EXPECT_EQ(checkpoint_error(folder), folder + " holds neither model.safetensors nor model.safetensors.index.json "
                                               "(quantize reads safetensors checkpoints; pytorch_model.bin is not read)");
  const json index = {{"weight_map",
                       {{"model.norm.weight", "model-00002-of-00002.safetensors"},
                        {"lm_head.weight", "model-00002-of-00002.safetensors"},
                        {"model.embed_tokens.weight", "model-00001-of-00002.safetensors"}}}};
  testing::write_file(folder + "/model.safetensors.index.json", index.dump());
  testing::write_file(folder + "/model-00001-of-00002.safetensors", "");
  EXPECT_EQ(checkpoint_error(folder), folder + "/model-00002-of-00002.safetensors does not exist "
                                               "(model.safetensors.index.json puts 2 tensors in it): a shard of the "
                                               "checkpoint is missing");
  testing::write_file(folder + "/model-00002-of-00002.safetensors", "");
  const HfCheckpoint c = open_hf_checkpoint(folder);
  EXPECT_EQ(c.weight_files, (std::vector<std::string>{folder + "/model-00001-of-00002.safetensors",
                                                      folder + "/model-00002-of-00002.safetensors"}));
  EXPECT_EQ(open_hf_checkpoint(folder + "/model.safetensors.index.json").weight_files, c.weight_files);
  testing::write_file(folder + "/model.safetensors.index.json",
                      json{{"weight_map", {{"x", "../elsewhere.safetensors"}}}}.dump());
  EXPECT_NE(checkpoint_error(folder).find("not the name of a file beside the index"), std::string::npos);
}

TEST(LlamaHfVocabulary, TokensTypesAndScoresAreLlamaCppsConversion) {
  testing::TempDir dir;
  write_folder(dir.file("v"), testing::tiny_hf_config(hf_test_config()), testing::tiny_hf_tokenizer());
  const GgufVocabulary v = read_hf_vocabulary(open_hf_checkpoint(dir.file("v")));
  ASSERT_EQ(v.tokens.size(), 320u) << "padded to config.json's vocab_size";
  ASSERT_EQ(v.types.size(), 320u);
  ASSERT_EQ(v.scores.size(), 320u);
  EXPECT_EQ(v.tokens[0], "<unk>");
  EXPECT_EQ(v.tokens[3], "<0x00>");
  EXPECT_EQ(v.tokens[258], "<0xFF>");
  EXPECT_EQ(v.tokens[259], testing::kHfSpace);
  EXPECT_EQ(v.tokens[kTinyHfBase - 1], std::string(testing::kHfSpace) + "ab");
  EXPECT_EQ(v.tokens[kTinyHfBase], "<|end|>");
  EXPECT_EQ(v.tokens[kTinyHfBase + 1], "<tool>");
  EXPECT_EQ(v.tokens[kTinyHfBase + 2], "[PAD1]");
  EXPECT_EQ(v.tokens[319], "[PAD" + std::to_string(319 - kTinyHfBase - 1) + "]");
  EXPECT_EQ(v.types[0], 2);                // unknown
  EXPECT_EQ(v.types[1], 3);                // <s>: control
  EXPECT_EQ(v.types[2], 3);                // </s>
  EXPECT_EQ(v.types[3], 6);                // byte
  EXPECT_EQ(v.types[259], 1);              // normal
  EXPECT_EQ(v.types[kTinyHfBase], 3);      // a special added token: control
  EXPECT_EQ(v.types[kTinyHfBase + 1], 4);  // another added token: user-defined
  EXPECT_EQ(v.types[kTinyHfBase + 2], 5);  // padding: unused
  // model.merges "a b", "b a", "▁ a", "▁a b" make "ab", "ba", "▁a", "▁ab": minus their ranks; every
  // other piece -1000.
  const auto id = [&](const std::string& piece) {
    return std::find(v.tokens.begin(), v.tokens.end(), piece) - v.tokens.begin();
  };
  const std::string space = testing::kHfSpace;
  EXPECT_EQ(v.scores[id("ab")], 0.0f);
  EXPECT_EQ(v.scores[id("ba")], -1.0f);
  EXPECT_EQ(v.scores[id(space + "a")], -2.0f);
  EXPECT_EQ(v.scores[id(space + "ab")], -3.0f);
  EXPECT_EQ(v.scores[id("a")], -1000.0f);
  EXPECT_EQ(v.scores[3], -1000.0f);  // a byte
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, 2);
  EXPECT_EQ(v.unknown, 0);
  // A vocabulary `generate --model` can tokenise with: every check of the GGUF tokenizer passes.
  const text::LlamaTokenizer tokenizer(v.tokens, v.scores, v.types, {v.bos, v.eos, v.unknown, -1});
  const std::vector<int32_t> ids = tokenizer.encode("ab a<tool>é");
  EXPECT_EQ(tokenizer.decode(ids), "ab a<tool>é");
  EXPECT_EQ(ids.front(), 1);
}

TEST(LlamaHfVocabulary, SpecialIdsComeFromTokenizerConfigThenConfigJson) {
  testing::TempDir dir;
  const std::string folder = dir.file("ids");
  json config = testing::tiny_hf_config(hf_test_config());
  config["eos_token_id"] = kTinyHfBase;  // config.json's EOS: <|end|>
  write_folder(folder, config, testing::tiny_hf_tokenizer());
  EXPECT_EQ(read_hf_vocabulary(open_hf_checkpoint(folder)).eos, kTinyHfBase);
  // tokenizer_config.json first, as a string or as an AddedToken object.
  testing::write_file(folder + "/tokenizer_config.json",
                      json{{"bos_token", {{"__type", "AddedToken"}, {"content", "<s>"}}}, {"eos_token", "<tool>"},
                           {"unk_token", nullptr}}
                          .dump());
  const GgufVocabulary v = read_hf_vocabulary(open_hf_checkpoint(folder));
  EXPECT_EQ(v.bos, 1);
  EXPECT_EQ(v.eos, kTinyHfBase + 1);
  EXPECT_EQ(v.types[kTinyHfBase + 1], 3) << "EOS is a control token";
  EXPECT_EQ(v.unknown, 0) << "tokenizer.json's model.unk_token";
  testing::write_file(folder + "/tokenizer_config.json", json{{"eos_token", "<|eot|>"}}.dump());
  EXPECT_EQ(checkpoint_error(folder),
            folder + "/tokenizer_config.json: \"eos_token\" is \"<|eot|>\", a token tokenizer.json does not have");
}

TEST(LlamaHfVocabulary, OtherVocabulariesAreRefusedByName) {
  testing::TempDir dir;
  const std::string folder = dir.file("t"), path = folder + "/tokenizer.json";
  const auto error_with = [&](const std::function<void(json&)>& change, int64_t vocab_size = 320) {
    LlamaConfig c = hf_test_config();
    c.vocab_size = vocab_size;
    json tokenizer = testing::tiny_hf_tokenizer();
    change(tokenizer);
    write_folder(folder, testing::tiny_hf_config(c), tokenizer);
    return checkpoint_error(folder);
  };
  // Llama 3: a byte-level BPE.
  const std::string llama3 = error_with([](json& t) {
    t["model"]["byte_fallback"] = false;
    t["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", json::array({{{"type", "Split"}}, {{"type", "ByteLevel"}}})}};
  });
  EXPECT_EQ(llama3.rfind(path + ": a byte-level BPE vocabulary", 0), 0u) << llama3;
  EXPECT_NE(llama3.find("quantize does not read Llama 3 vocabularies yet"), std::string::npos) << llama3;
  EXPECT_NE(error_with([](json& t) { t["model"]["type"] = "Unigram"; }).find("\"model.type\" is \"Unigram\""),
            std::string::npos);
  EXPECT_NE(error_with([](json& t) { t["model"].erase("byte_fallback"); }).find("\"model.byte_fallback\" is not true"),
            std::string::npos);
  EXPECT_EQ(error_with([](json& t) { t["model"]["vocab"]["ab"] = 400; }),
            path + ": \"model.vocab\" gives \"ab\" the id 400; its 290 pieces have the ids 0 to 289, each once");
  EXPECT_EQ(error_with([](json& t) { t["model"]["vocab"]["ab"] = 5; }),
            path + ": \"model.vocab\" gives the id 5 to both \"<0x02>\" and \"ab\"");
  EXPECT_NE(error_with([](json& t) { t["added_tokens"][4]["id"] = kTinyHfBase + 5; })
                .find("\"<tool>\" has the id 295 where 291 is next"),
            std::string::npos);
  EXPECT_EQ(error_with([](json&) {}, 291),
            path + ": has 292 tokens, but " + folder + "/config.json's \"vocab_size\" (the embedding's rows) is 291");
  remove_tree(path);
  EXPECT_EQ(checkpoint_error(folder), path + " does not exist: quantize takes the vocabulary from the checkpoint's "
                                             "tokenizer.json (Hugging Face tokenizers' file; tokenizer.model alone is "
                                             "not read)");
}

}  // namespace
}  // namespace mlspeed::llama
