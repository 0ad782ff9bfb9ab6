// Writes small valid inputs for each fuzz target into DIR/<target>/, so that every run starts
// from files in the real formats rather than from nothing (binary seeds are generated here
// rather than committed). Usage: make_seeds DIR
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "mlspeed/data/cifar100.h"
#include "mlspeed/io/safetensors.h"
#include "testing/imdb_fixture.h"
#include "testing/tiny_gpt2_vocab.h"

using namespace mlspeed;

namespace {

std::string out_dir;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::string dir = out_dir + "/" + target;
  if (const std::string why = make_directories(dir); !why.empty()) {
    std::fprintf(stderr, "make_seeds: cannot create %s: %s\n", dir.c_str(), why.c_str());
    std::exit(1);
  }
  fuzz::write_file(dir + "/" + name, bytes);
}

std::string read(const std::string& path) {
  const auto bytes = read_whole_file(path);
  if (!bytes) {
    std::fprintf(stderr, "make_seeds: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  return *bytes;
}

void safetensors_seeds() {
  const std::string file = fuzz::temp_dir() + "/seed.safetensors";
  safetensors::save(file, {{"weight", at::arange(6, at::kFloat).view({2, 3})}, {"bias", at::ones({2}, at::kLong)}},
                    {{"format", "pt"}});
  seed("safetensors", "two_tensors", read(file));
  // A misaligned tensor after a 3-byte one, a zero-size one, and the half-precision dtypes.
  safetensors::save(file, {{"bytes", at::ones({3}, at::kByte)},
                           {"half", at::ones({2, 2}, at::kHalf)},
                           {"empty", at::ones({0, 4}, at::kBFloat16)},
                           {"flags", at::ones({1}, at::kBool)}});
  seed("safetensors", "misaligned", read(file));
  safetensors::save(file, {});
  seed("safetensors", "empty", read(file));
}

void cifar100_seeds() {
  std::string records;
  for (int r = 0; r < 2; ++r) {
    records += static_cast<char>(7 + r);   // coarse label
    records += static_cast<char>(42 + r);  // fine label
    for (int i = 0; i < data::Cifar100::kPixelBytes; ++i) records += static_cast<char>((i * 31 + r) & 0xFF);
    seed("cifar100", std::to_string(r + 1) + "_records", records);
  }
}

void imdb_seeds() {
  std::string vocab;
  for (const auto& token : imdb::fixture::vocabulary()) vocab += token + "\n";
  std::string input = vocab;
  const auto& neg = imdb::fixture::negative_reviews();
  const auto& pos = imdb::fixture::positive_reviews();
  for (size_t i = 0; i < neg.size() && i < pos.size(); ++i)
    input += std::string("\x1e") + neg[i].text + "\x1e" + pos[i].text;
  seed("imdb", "fixture", input);
  seed("imdb", "no_vocab", std::string("\x1e") + neg[0].text + "\x1e" + pos[0].text);
}

void gpt2_vocab_seeds() {
  const testing::TinyGpt2Vocab v = testing::tiny_gpt2_vocab();
  seed("gpt2_vocab", "tiny", v.encoder_json + "\x1e" + v.vocab_bpe + "\x1e" + "The rain in Spain");
  seed("gpt2_vocab", "tiny_crlf_mixed_text", v.encoder_json + "\x1e" + v.vocab_bpe + "\r\n\x1e" +
                                                 "Caf\xC3\xA9 don't  \t 2024\xF0\x9F\x98\x80 \xFF!");
}

void cli_seeds() {
  // argv[1..] separated by NUL bytes.
  const std::vector<std::vector<std::string>> lines = {
      {"run", "-w", "bert-base-infer,gpt2-generate", "-d", "cpu", "-t", "fp32,bf16", "-b", "1,4", "-s", "128",
       "--sizes", "tiny", "-o", "jsonl", "--no-db"},
      {"run", "--min-time", "0.5", "--warmup", "2", "-r", "3", "--threads", "2", "--seed", "7", "--graphs", "off"},
      {"run", "--weights", "model.safetensors", "--data", "aclImdb", "--profile", "prof", "--db", "x.db"},
      {"show", "12", "-o", "csv"},
      {"devices", "--json"},
      {"workloads"},
      {"generate", "-w", "gpt2-generate", "--ids", "1,2,3", "-g", "4", "--prompt", "hi", "--vocab", "gpt2/"},
      {"verify", "-d", "cpu", "--quick", "--level", "op", "--ops", "mm,softmax", "--inject-fault",
       "square-mm-transposed"},
      {"verify", "--list"},
      {"--version"},
      {"run", "--help"},
  };
  int n = 0;
  for (const auto& line : lines) {
    std::string input;
    for (size_t i = 0; i < line.size(); ++i) input += (i ? std::string(1, '\0') : "") + line[i];
    seed("cli", "line" + std::to_string(n++), input);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  out_dir = argv[1];
  safetensors_seeds();
  cifar100_seeds();
  imdb_seeds();
  gpt2_vocab_seeds();
  cli_seeds();
  return 0;
}
