// Writes small valid inputs for each fuzz target into DIR/<target>/, so that every run starts
// from files in the real formats rather than from nothing (binary seeds are generated here
// rather than committed). Usage: make_seeds DIR
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.h"
#include "mlspeed/compare/row_kinds.h"
#include "mlspeed/compare/run_file.h"
#include "mlspeed/data/cifar100.h"
#include "mlspeed/io/gguf_writer.h"
#include "mlspeed/io/safetensors.h"
#include "mlspeed/results/formats.h"
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

// `bytes` bytes counting up from `first`: tensor data that differs from tensor to tensor.
std::vector<uint8_t> gguf_seed_bytes(size_t bytes, uint8_t first) {
  std::vector<uint8_t> out(bytes);
  for (size_t i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(first + i);
  return out;
}

// A small Llama-like file (a few metadata types, a vocabulary, an F32 and a Q8_0 tensor), the
// same as version 2, one with the K formats at alignment 8, and one of metadata alone.
void gguf_seeds() {
  const std::string file = fuzz::temp_dir() + "/seed.gguf";
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_uint32("llama.block_count", 1);
  w.set_float32("llama.rope.freq_base", 10000.0f);
  w.set_bool("llama.use_parallel_residual", false);
  w.set_string_array("tokenizer.ggml.tokens", {"<s>", "a", "caf\xC3\xA9"});
  w.set_float_array("tokenizer.ggml.scores", {0.0f, -1.0f, -2.5f});
  w.set_int32_array("tokenizer.ggml.token_type", {3, 1, 1});
  w.set("t.nested", gguf::Value::array_of_arrays({gguf::Value::array(std::vector<uint16_t>{1, 2}),
                                                  gguf::Value::string_array({"x"})}));
  w.add_tensor("output_norm.weight", {4, 2}, WeightFormat::f32, gguf_seed_bytes(32, 1));
  w.add_tensor("token_embd.weight", {32, 1}, WeightFormat::q8_0, gguf_seed_bytes(34, 100));
  w.write(file);
  std::string v3 = read(file);
  seed("gguf", "llama_like", v3);
  v3[4] = 2;  // the layout of versions 2 and 3 is the same
  seed("gguf", "version_2", v3);

  gguf::Writer k;
  k.set_uint32("general.alignment", 8);
  k.set_uint64("general.file_type", 15);
  k.set_float64("t.f64", -0.5);
  k.set_int8("t.i8", -3);
  k.add_tensor("blk.0.ffn_down.weight", {256}, WeightFormat::q6_k, gguf_seed_bytes(210, 7));
  k.add_tensor("blk.0.attn_q.weight", {256}, WeightFormat::q4_k, gguf_seed_bytes(144, 9));
  k.add_tensor("blk.0.attn_k.weight", {32, 2}, WeightFormat::q4_0, gguf_seed_bytes(36, 11));
  k.add_tensor("blk.0.attn_norm.weight", {2}, WeightFormat::bf16, gguf_seed_bytes(4, 13));
  k.add_tensor("blk.0.attn_v.weight", {3}, WeightFormat::f16, gguf_seed_bytes(6, 15));
  k.write(file);
  seed("gguf", "k_formats_aligned_8", read(file));

  gguf::Writer m;
  m.set_string("general.name", "metadata only");
  m.write(file);
  seed("gguf", "metadata_only", read(file));
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

// The machine a run file's rows and context describe: one CPU, one GPU.
RunContext seed_context() {
  RunContext c;
  c.started_at = "2026-01-02T03:04:05Z";
  c.command = "mlspeed run -w gpt2-train -d all";
  c.host.hostname = "bench-01";
  c.host.os = "Linux 6.1.0 x86_64";
  c.host.cpu_model = "AMD EPYC 9654 96-Core Processor";
  c.host.logical_cpus = 192;
  c.host.ram_bytes = 1622727786496;
  c.host.torch_version = "1.13.1";
  DeviceFacts cpu;
  cpu.id = cpu.kind = "cpu";
  cpu.peak_flops = {{Precision::fp32, 1.25e12}};
  DeviceFacts gpu;
  gpu.id = "cuda:0";
  gpu.kind = "cuda";
  gpu.name = "NVIDIA H100 80GB HBM3";
  gpu.memory_bytes = 85520809984;
  gpu.peak_flops = {{Precision::fp32, 66.9e12}, {Precision::bf16, 989.4e12}};
  gpu.peak_bandwidth = 3.35e12;
  c.devices = {cpu, gpu};
  c.graphs = true;
  return c;
}

Result seed_result() {
  Result r;
  r.timestamp = "2026-01-02T03:04:06Z";
  r.workload = "gpt2-train";
  r.size = "tiny";
  r.device = "cuda:0";
  r.precision = Precision::bf16;
  r.batch = 8;
  r.seq_len = 128;
  r.samples_ms = {1.5, 0.1 + 0.2, 1.0 / 3};
  r.summary = summarize(r.samples_ms);
  r.items_per_s = 24576.5;
  r.mfu = 0.0185;
  r.peak_memory_bytes = 3221225472;
  r.device_facts = seed_context().devices[1];
  r.host = seed_context().host;
  return r;
}

verify::CheckResult seed_check() {
  verify::CheckResult c;
  c.timestamp = "2026-01-02T03:04:07Z";
  c.device = "cpu";
  c.check = "mm";
  c.variant = "square";
  c.dtype = "fp16";
  c.shape = "64x64";
  c.outcome = verify::Outcome::fail;
  c.message = "3.1% of elements (1234 of 40000) off by up to 0.42, first at [3, 17]";
  c.elements = 40000;
  c.max_abs_error = 0.42;
  c.first_bad_index = "[3, 17]";
  c.reproducible = true;
  c.host = seed_context().host;
  return c;
}

GenerationRow seed_generation() {
  GenerationRow g;
  g.timestamp = "2026-01-02T03:04:08Z";
  g.workload = "gpt2-generate";
  g.size = "tiny";
  g.device = "cpu";
  g.prompt_ids = {464, 6290, 287};
  g.new_ids = {0, 0, 0, 0};
  g.top2_margins = {0.5, 1e-3, 0, 2.25};
  g.text = "The rain in!!!!";
  g.new_text = "!!!!";
  g.first_token_ms = 12.5;
  g.ms_per_token = 3.25;
  g.warnings = "random weights\none token repeated: 0 (\"!\") 4 times";
  g.host = seed_context().host;
  return g;
}

// `rows` as `mlspeed show -o FORMAT` writes them.
template <class Row> std::string show_output(Format format, const std::vector<Row>& rows) {
  std::ostringstream out;
  RowWriter writer = make_row_writer(format, out, RowType<Row>::fields());
  writer.begin();
  for (const Row& row : rows) writer.write(values_of(RowType<Row>::fields(), row));
  writer.end();
  return out.str();
}

// A recorded run of `rows`, as `mlspeed export` reads it from the database.
template <class Row> LoadedRun seed_run(const std::string& command, std::vector<Row> rows) {
  LoadedRun run;
  run.run.id = 12;
  run.run.started_at = "2026-01-02T03:04:05Z";
  run.run.finished_at = "2026-01-02T03:09:00Z";
  run.run.status = "complete";
  run.run.command = command;
  run.run.kind = RowType<Row>::kind;
  run.run.label = "driver 580";
  run.run.context = seed_context();
  run.run.row_count = static_cast<int64_t>(rows.size());
  run.rows<Row>() = std::move(rows);
  return run;
}

// Exported runs of each kind, and a reference set of published figures.
void run_file_seeds() {
  const LoadedRun speed =
      seed_run("mlspeed run -w gpt2-train -d all --label \"driver 580\"", std::vector{seed_result()});
  seed("run_file", "speed_run", write_run_file(speed));
  LoadedRun published = speed;
  published.citation = "Macbook Pro GPU for ML? (blog), table 1";
  seed("run_file", "published_reference", write_run_file(published, "BERT on a T4"));
  const LoadedRun checks = seed_run("mlspeed verify -d cpu --quick", std::vector{seed_check()});
  seed("run_file", "verify_run", write_run_file(checks, "", "results/2026-11-23-cpu"));
  const LoadedRun generations = seed_run("mlspeed generate -w gpt2-generate --prompt \"The rain in\"",
                                         std::vector{seed_generation()});
  seed("run_file", "generate_run", write_run_file(generations));
}

// `show -o json` and `-o jsonl` output, which the reader takes for a run file too.
void row_list_seeds() {
  Result failed = seed_result();
  failed.status = Status::oom;
  failed.message = "CUDA out of memory, tried to allocate \"2.5 GiB\"\nfree: 1.1 GiB";
  failed.samples_ms.clear();
  seed("run_file", "show_json", show_output(Format::json, std::vector{seed_result(), failed}));
  seed("run_file", "show_jsonl", show_output(Format::jsonl, std::vector{seed_result(), failed}));
  seed("run_file", "show_jsonl_checks", show_output(Format::jsonl, std::vector{seed_check()}));
  seed("run_file", "show_json_generations", show_output(Format::json, std::vector{seed_generation()}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  out_dir = argv[1];
  safetensors_seeds();
  gguf_seeds();
  cifar100_seeds();
  imdb_seeds();
  gpt2_vocab_seeds();
  cli_seeds();
  run_file_seeds();
  row_list_seeds();
  return 0;
}
