// GGUF files end to end as a user without a download runs them: `mlspeed quantize random:tiny`
// writes one in each file type, `mlspeed run --model` times it as llama-bench does (pp and tg rows
// with the file's weight format and the bytes a token reads), and bad files and bad names are one
// clear line with exit status 2.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "mlspeed/results/printers.h"
#include "testing/test_support.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::contains;
using testing::run_cli;
using testing::TempDir;

TEST(GgufCli, QuantizeThenRunTheFileAsLlamaBenchDoes) {
  TempDir dir;
  std::vector<std::string> models;
  for (const char* type : {"q4_0", "Q8_0", "q4_k_m"}) {
    const std::string path = dir.file(std::string("tiny-") + type + ".gguf");
    const auto q = run_cli({"quantize", "random:tiny", path, "--type", type});
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_TRUE(contains(q.out, "wrote " + path + ": llama ")) << q.out;
    models.push_back(path);
  }
  const auto r = run_cli({"run", "--model", models[0] + "," + models[1] + "," + models[2], "-d", "cpu", "-s", "16",
                          "-g", "8", "-n", "1", "--warmup", "0", "--no-db", "-o", "jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = parse_results(Format::jsonl, r.out);
  ASSERT_EQ(rows.size(), 6u);  // pp16 and tg8 of each file, and nothing from the catalogue
  const std::vector<ModelFormat> formats = {ModelFormat::q4_0, ModelFormat::q8_0, ModelFormat::q4_k_m};
  for (size_t i = 0; i < rows.size(); ++i) {
    const Result& row = rows[i];
    EXPECT_EQ(row.status, Status::ok) << row.message;
    EXPECT_EQ(row.workload, i < 2 ? "tiny-q4_0" : i < 4 ? "tiny-Q8_0" : "tiny-q4_k_m");
    EXPECT_EQ(row.weight_format, formats[i / 2]);
    const bool tg = i % 2 == 1;
    EXPECT_EQ(row.new_tokens, tg ? 8 : 0);
    EXPECT_EQ(row.bytes_per_item > 0, tg) << i;
  }
  // Q4_0 reads fewer bytes a token than Q8_0.
  EXPECT_LT(rows[1].bytes_per_item, rows[3].bytes_per_item);
  // llama-bench's model columns: the file's model and type, its tensors' bytes.
  for (size_t i = 0; i < rows.size(); i += 2) {
    EXPECT_TRUE(rows[i].model.rfind("llama ", 0) == 0) << rows[i].model;
    EXPECT_TRUE(contains(rows[i].model, i == 0 ? " Q4_0" : i == 2 ? " Q8_0" : " Q4_K_M")) << rows[i].model;
    EXPECT_GT(rows[i].model_bytes, 0);
    EXPECT_LT(rows[i].model_bytes, static_cast<int64_t>(std::filesystem::file_size(models[i / 2])));
  }
  EXPECT_LT(rows[0].model_bytes, rows[2].model_bytes);

  // --kernels libtorch: LibTorch's ops alone (the weights dequantised for its matrix product),
  // recorded in every row and said above the table; mlspeed's own kernels by default.
  EXPECT_EQ(rows[1].kernels, KernelSet::mlspeed);
  EXPECT_EQ(rows[1].weight_kernels.rfind("cpu-", 0), 0u) << rows[1].weight_kernels;
  const std::vector<std::string> libtorch_run = {"run", "--model", models[0], "-d", "cpu", "-s", "16", "-g", "8",
                                                 "-n", "1", "--warmup", "0", "--no-db", "--kernels", "libtorch"};
  const auto alone = run_cli(testing::with(libtorch_run, {"-o", "jsonl"}));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  for (const Result& row : parse_results(Format::jsonl, alone.out)) {
    EXPECT_EQ(row.status, Status::ok) << row.message;
    EXPECT_EQ(row.kernels, KernelSet::libtorch);
    EXPECT_EQ(row.weight_kernels, "dequantize+matmul");
  }
  const auto table = run_cli(libtorch_run);
  EXPECT_TRUE(contains(table.out, "- LibTorch's kernels alone (--kernels libtorch)")) << table.out;
  const auto bad = run_cli({"run", "--model", models[0], "--kernels", "cublas", "--no-db"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(contains(bad.err, "--kernels: unknown value 'cublas'; choose from: mlspeed, libtorch")) << bad.err;

  // llama-bench's -d: the tests after a filled KV cache, labelled as llama-bench labels them.
  const auto deep = run_cli({"run", "--model", models[0], "-d", "cpu", "-s", "16", "-g", "8", "--depth", "0,24",
                             "-n", "1", "--warmup", "0", "--no-db"});
  ASSERT_EQ(deep.exit_code, 0) << deep.err;
  EXPECT_TRUE(contains(deep.out, "| pp16 @ d24 |")) << deep.out;
  EXPECT_TRUE(contains(deep.out, "| tg8 @ d24  |")) << deep.out;
  EXPECT_TRUE(contains(deep.out, "| tg8        |")) << deep.out;
}

TEST(GgufCli, BadFilesAndNamesAreOneLineAndStatus2) {
  TempDir dir;
  testing::write_file(dir.file("notes.txt"), "not a model\n");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"run", "--model", dir.file("missing.gguf"), "--no-db"}, "does not exist"},
      {{"run", "--model", dir.file("notes.txt"), "--no-db"}, dir.file("notes.txt") + ": "},
      {{"run", "-w", "resnet50-cifar100", "--weight-format", "q4_0", "--no-db"}, "--weight-format: no chosen workload"},
      {{"run", "-w", "llama2-7b-generate", "--weight-format", "q5_k_m", "--no-db"}, "--weight-format: unknown value"},
      {{"quantize", "random:tiny", dir.file("x.gguf"), "--type", "iq2_xxs"}, "--type: unknown value 'iq2_xxs'"},
      {{"quantize", "random:huge", dir.file("x.gguf")}, "random:huge is no size"},
      {{"quantize", dir.file("notes.txt"), dir.file("x.gguf")}, dir.file("notes.txt") + ": "},
      {{"quantize", "random:tiny"}, "quantize takes IN and OUT"},
  };
  for (const auto& [args, expected] : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(contains(r.err, expected)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  EXPECT_FALSE(testing::read_file(dir.file("x.gguf")).size()) << "nothing written for bad input";
}

}  // namespace
}  // namespace mlspeed
