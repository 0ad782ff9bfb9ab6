#include "mlspeed/results/printers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mlspeed/core/text.h"
#include "mlspeed/results/fields.h"
#include "testing/results_test_rows.h"
#include "testing/text.h"

namespace mlspeed {
namespace {

using testing::expect_same_fields;
using testing::failed_row;
using testing::full_row;
using testing::sample_context;

std::string print_rows(Format format, const std::vector<Result>& rows, TableWidth width = TableWidth::narrow) {
  std::ostringstream out;
  auto printer = make_printer(format, out, width);
  printer->header(sample_context());
  for (const Result& r : rows) printer->row(r);
  printer->footer(/*complete=*/true);
  return out.str();
}

using ::mlspeed::testing::contains;

// An ok row as a timed configuration would produce: figures known, no failure.
Result ok_row() {
  Result r = full_row();
  r.status = Status::ok;
  r.message.clear();
  r.size = "full";
  r.repetition = 0;
  r.data_parallel = false;  // one device: run --ddp's rows are below
  r.world_size = 1;
  r.scaling_efficiency.reset();
  r.allreduce_busbw_gb_s.reset();
  return r;
}

TEST(Formats, NamesParseBack) {
  EXPECT_EQ(format_names(), (std::vector<std::string>{"md", "json", "jsonl", "csv"}));
  for (const std::string& name : format_names()) EXPECT_TRUE(parse_format(name)) << name;
  EXPECT_FALSE(parse_format("xml"));
  EXPECT_FALSE(parse_format(""));
}

class MachineFormat : public ::testing::TestWithParam<Format> {};

}  // namespace

// Names the format in test output instead of its bytes.
void PrintTo(Format format, std::ostream* os) { *os << format_names()[static_cast<size_t>(format)]; }

namespace {

TEST_P(MachineFormat, RowsReadBackEqualFieldByField) {
  const std::vector<Result> rows = {full_row(), failed_row(), ok_row()};
  const std::string text = print_rows(GetParam(), rows);
  const std::vector<Result> back = parse_results(GetParam(), text);
  ASSERT_EQ(back.size(), rows.size()) << text;
  for (size_t i = 0; i < rows.size(); ++i) expect_same_fields(rows[i], back[i], "row " + std::to_string(i));
}

TEST_P(MachineFormat, NoRowsReadsBackAsNoRows) {
  EXPECT_TRUE(parse_results(GetParam(), print_rows(GetParam(), {})).empty());
}

INSTANTIATE_TEST_SUITE_P(Results, MachineFormat, ::testing::Values(Format::json, Format::jsonl, Format::csv),
                         [](const auto& info) { return format_names()[static_cast<size_t>(info.param)]; });

TEST(JsonFormat, IsAValidArrayWithZeroRowsAndEvenWithoutAHeader) {
  EXPECT_EQ(nlohmann::json::parse(print_rows(Format::json, {})), nlohmann::json::array());
  std::ostringstream out;
  make_printer(Format::json, out)->footer(/*complete=*/false);  // interrupted before the header was printed
  EXPECT_EQ(nlohmann::json::parse(out.str()), nlohmann::json::array());
}

TEST(JsonFormat, OneKeyPerFieldInFieldOrderWithNativeTypes) {
  const auto array = nlohmann::ordered_json::parse(print_rows(Format::json, {failed_row()}));
  ASSERT_EQ(array.size(), 1u);
  const auto& row = array[0];
  std::vector<std::string> keys;
  for (const auto& item : row.items()) keys.push_back(item.key());
  std::vector<std::string> names;
  for (const Field& f : result_fields()) names.push_back(f.name);
  EXPECT_EQ(keys, names);
  EXPECT_TRUE(row.at("tf32").is_boolean());
  EXPECT_TRUE(row.at("batch").is_number_integer());
  EXPECT_TRUE(row.at("samples_ms").is_array());
  EXPECT_TRUE(row.at("mfu").is_null());  // unknown
  EXPECT_EQ(row.at("status"), "oom");
}

TEST(JsonFormat, StreamsEachRowAsItArrives) {
  std::ostringstream out;
  auto printer = make_printer(Format::json, out);
  printer->header(sample_context());
  printer->row(full_row());
  EXPECT_TRUE(contains(out.str(), "\"gpt2-train\"")) << out.str();
}

TEST(JsonlFormat, OneObjectPerLine) {
  const std::string text = print_rows(Format::jsonl, {full_row(), failed_row()});
  std::istringstream lines(text);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(nlohmann::json::parse(line).is_object()) << line;
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST(CsvFormat, HeaderIsTheFieldListAndCellsAreQuotedWhereNeeded) {
  const std::string text = print_rows(Format::csv, {failed_row(), full_row()});
  std::vector<std::string> names;
  for (const Field& f : result_fields()) names.push_back(f.name);
  EXPECT_EQ(text.substr(0, text.find('\n')), join(names, ","));
  EXPECT_TRUE(contains(text, "\"CUDA out of memory, tried to allocate \"\"2.5 GiB\"\"\nfree: 1.1 GiB\""));
  EXPECT_TRUE(contains(text, ",1.5 0.30000000000000004 0.33333333333333331 1e-300,"));
  EXPECT_TRUE(contains(text, ",oom,"));
  EXPECT_TRUE(contains(text, ",,,")) << "unknown values are empty cells";
}

TEST(CsvFormat, AcceptsCrLfLineEndings) {
  std::string text = print_rows(Format::csv, {full_row()});
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const auto back = parse_results(Format::csv, crlf);
  ASSERT_EQ(back.size(), 1u);
  expect_same_fields(full_row(), back[0], "crlf");
}

TEST(ParseResults, ErrorsNameTheLineAndField) {
  const std::string header = "workload,batch\n";
  try {
    parse_results(Format::csv, header + "gpt2,8\nbert,eight\n");
    ADD_FAILURE() << "a bad batch was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "line 3")) << e.what();
    EXPECT_TRUE(contains(e.what(), "batch")) << e.what();
  }
  try {
    parse_results(Format::jsonl, "{\"batch\": 8}\n{\"batch\": \n");
    ADD_FAILURE() << "broken JSON was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "line 2")) << e.what();
  }
  try {
    parse_results(Format::json, "[{\"dtype\": \"fp32\"}, {\"dtype\": \"fp64\"}]");
    ADD_FAILURE() << "an unknown dtype was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(contains(e.what(), "row 2")) << e.what();
    EXPECT_TRUE(contains(e.what(), "dtype")) << e.what();
  }
  EXPECT_THROW(parse_results(Format::csv, header + "gpt2,8,extra\n"), std::invalid_argument);
  EXPECT_THROW(parse_results(Format::csv, header + "\"gpt2,8\n"), std::invalid_argument);
  EXPECT_THROW(parse_results(Format::json, "{\"batch\": 8}"), std::invalid_argument);
  EXPECT_THROW(parse_results(Format::md, "| a |"), std::invalid_argument);
}

TEST(ParseResults, UnknownColumnsAreSkippedSoNewerOutputStillReads) {
  const auto rows = parse_results(Format::csv, "workload,added_later,batch\ngpt2,x,8\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].workload, "gpt2");
  EXPECT_EQ(rows[0].batch, 8);
}

TEST(MarkdownFormat, ADataParallelRowSaysSoInItsLabelAndItsScalingUnderTheTable) {
  Result two = ok_row();
  two.data_parallel = true;
  two.world_size = 2;
  two.scaling_efficiency = 0.931;
  two.allreduce_busbw_gb_s = 181.5;
  const std::string text = print_rows(Format::md, {ok_row(), two});
  EXPECT_TRUE(contains(text, "| b12 pp345+tg16 @ d1024 ddp x2 |")) << text;
  EXPECT_TRUE(contains(text, "\nData-parallel (throughput on N devices over N times one device's, the same run):\n"
                             "- gpt2-train bf16 b12 pp345+tg16 @ d1024 on 2 devices from cuda:1: scaling 93.1%, "
                             "all-reduce bus bandwidth 182 GB/s\n"))
      << text;
  const std::string wide = print_rows(Format::md, {ok_row(), two}, TableWidth::wide);
  EXPECT_TRUE(contains(wide, "| scaling |")) << wide;
  EXPECT_TRUE(contains(wide, " 93.1% |        182 |")) << wide;

  Result one = two;  // one rank: its probe's busbw is 0 by definition
  one.world_size = 1;
  one.allreduce_busbw_gb_s = 0;
  const std::string single = print_rows(Format::md, {ok_row(), one});
  EXPECT_TRUE(contains(single, "on 1 device from cuda:1: scaling 93.1%, no all-reduce bus bandwidth (one rank: "
                               "nothing crosses a link)\n"))
      << single;
}

TEST(MarkdownFormat, PrintsContextTableAndFailures) {
  Result failed = failed_row();
  failed.repetition = 0;
  failed.data_parallel = false;
  failed.world_size = 1;
  const std::string text = print_rows(Format::md, {ok_row(), failed});
  EXPECT_TRUE(contains(text, "bench-01")) << text;                       // context block
  EXPECT_TRUE(contains(text, "AMD EPYC 9654 96-Core Processor")) << text;
  EXPECT_TRUE(contains(text, "| workload        | device | dtype | test                   | median ms ± sd |     throughput |"
                             "  MFU | noise       |\n"))
      << text;
  EXPECT_TRUE(contains(text, "| gpt2-train      | cuda:1 | bf16  | b12 pp345+tg16 @ d1024 |  0.333 ± 0.123 | 24.6k tokens/s |"
                             " 1.9% | cv 23%, n=4 |\n"))
      << text;
  // A failed row: its status where the time would be, no figures, no noise flag.
  EXPECT_TRUE(contains(text, "| sd15-unet-infer | cuda:1 | bf16  | b12 pp345+tg16 @ d1024 |            oom |              - |"
                             "    - |             |\n"))
      << text;
  // What only the wide table shows is named, so that nothing seems lost.
  EXPECT_TRUE(
      contains(text, "\n--wide adds: kernels, model, model size, params, graphs, TFLOP/s, first token ms, ms/token, GB/s, "
                     "MBU, weight kernels, W, energy, clock MHz, throttle, job, peak memory.\n"))
      << text;
  // Why a device's energy was not read: one line.
  EXPECT_TRUE(contains(text, "\nEnergy:\n- cuda:1: not available: the GPU was lost during the run (NVML: GPU is lost)\n"))
      << text;
  // The note gives the outcome and message on one line, then the configuration.
  EXPECT_TRUE(contains(text, "Not measured:\n- oom — CUDA out of memory, tried to allocate \"2.5 GiB\" free: 1.1 GiB\n"
                             "  (workload sd15-unet-infer, device cuda:1, dtype bf16, kernels libtorch, batch 12, seq 345, gen 16, "
                             "depth 1024)"))
      << text;
}

// A quiet GPU row (the H200's nanoGPT step): the spread keeps a digit of its own instead of
// rounding to "31.2 ± 0.0"; a noisy CPU row keeps the median's three digits.
TEST(MarkdownFormat, TheSpreadIsShownWithADigitOfItsOwn) {
  Result quiet = ok_row();
  quiet.summary.median = 31.18;
  quiet.summary.stddev = 0.021;
  Result noisy = ok_row();
  noisy.summary.median = 323.1;
  noisy.summary.stddev = 12.4;
  const std::string text = print_rows(Format::md, {quiet, noisy});
  EXPECT_TRUE(contains(text, " 31.18 ± 0.02 |")) << text;
  EXPECT_TRUE(contains(text, " 323 ± 12 |")) << text;
}

TEST(MarkdownFormat, WidePrintsEveryColumnThatCarriesInformation) {
  Result failed = failed_row();
  failed.repetition = 0;
  const std::string text = print_rows(Format::md, {ok_row(), failed}, TableWidth::wide);
  EXPECT_TRUE(contains(text, " 345 |")) << text;                         // seq
  EXPECT_TRUE(contains(text, "| median ms ± sd |")) << text;
  EXPECT_TRUE(contains(text, "0.333 ± 0.123")) << text;                  // median ± stddev
  EXPECT_TRUE(contains(text, "24.6k tokens/s")) << text;
  EXPECT_TRUE(contains(text, "18.3")) << text;                           // TFLOP/s
  EXPECT_TRUE(contains(text, "1.9%")) << text;                           // MFU
  EXPECT_TRUE(contains(text, "3.0 GiB")) << text;                        // peak memory
  EXPECT_TRUE(contains(text, "| gpt2 124M BF16 |   0.23 GiB | 0.12 B |")) << text;  // llama-bench's model columns
  EXPECT_TRUE(contains(text, "| depth |")) << text;
  EXPECT_TRUE(contains(text, " 1024 |")) << text;
  EXPECT_TRUE(contains(text, "| oom ")) << text;
  EXPECT_TRUE(contains(text, "| cv 23%, n=4 |")) << text;
  EXPECT_TRUE(contains(text, "| 412 | 0.0781 J/token | 1500/1980 | power-cap,thermal |")) << text;  // energy
  EXPECT_TRUE(contains(text, " - |")) << "unknowns show as -:\n" << text;
  EXPECT_FALSE(contains(text, "--wide adds")) << text;
  EXPECT_TRUE(contains(text, "Not measured:\n- oom — CUDA out of memory")) << text;
  EXPECT_FALSE(contains(text, "| size")) << "every row is full size:\n" << text;
  EXPECT_FALSE(contains(text, "| rep")) << "no row repeats:\n" << text;
}

TEST(MarkdownFormat, RowsNotMeasuredForOneReasonShareOneNote) {
  Result a = failed_row(), b = failed_row(), c = failed_row();
  a.status = b.status = Status::unsupported;
  a.message = b.message = "tf32 needs a GPU";
  a.batch = 1;
  b.batch = 2;
  const std::string text = print_rows(Format::md, {a, ok_row(), b, c});
  EXPECT_TRUE(contains(text, "- unsupported — tf32 needs a GPU\n  (2 rows: ")) << text;
  EXPECT_TRUE(contains(text, "batch 1")) << text;
  EXPECT_TRUE(contains(text, "; workload")) << text;
  EXPECT_TRUE(contains(text, "- oom — ")) << text;
  EXPECT_EQ(text.find("tf32 needs a GPU"), text.rfind("tf32 needs a GPU")) << "once:\n" << text;
}

TEST(MarkdownFormat, ShowsSizeAndRepetitionOnlyWhenTheyVary) {
  Result tiny = ok_row();
  tiny.size = "tiny";
  tiny.repetition = 1;
  const std::string text = print_rows(Format::md, {ok_row(), tiny}, TableWidth::wide);
  EXPECT_TRUE(contains(text, "| size")) << text;
  EXPECT_TRUE(contains(text, "| rep")) << text;
  EXPECT_TRUE(contains(text, "| tiny ")) << text;

  // The narrow table keeps its columns and says it in the test label.
  const std::string narrow = print_rows(Format::md, {ok_row(), tiny});
  EXPECT_FALSE(contains(narrow, "| size")) << narrow;
  EXPECT_TRUE(contains(narrow, "| b12 pp345+tg16 @ d1024 rep 0      |")) << narrow;
  EXPECT_TRUE(contains(narrow, "| tiny b12 pp345+tg16 @ d1024 rep 1 |")) << narrow;
  EXPECT_FALSE(contains(print_rows(Format::md, {ok_row()}), " rep ")) << "one repetition needs no number";
}

TEST(MarkdownFormat, TableLinesLineUpAndNumbersAlignRight) {
  const std::string text = print_rows(Format::md, {ok_row(), failed_row()});
  const std::string table = text.substr(text.find("| workload"));
  std::istringstream lines(table);
  std::string line, first;
  std::getline(lines, first);
  std::string rule;
  std::getline(lines, rule);
  EXPECT_TRUE(contains(rule, "| :-------")) << rule;  // text left
  EXPECT_TRUE(contains(rule, "-: |")) << rule;        // numbers right
  auto columns = [](const std::string& l) {
    size_t n = 0;
    for (char c : l) n += (c & 0xC0) != 0x80;  // display width
    return n;
  };
  for (int i = 0; i < 2 && std::getline(lines, line); ++i) EXPECT_EQ(columns(line), columns(first)) << line;
}

TEST(MarkdownFormat, GenerationAndJobColumnsAndInputsAppearOnlyWhenUsed) {
  Result plain = ok_row();
  plain.new_tokens = 0;
  plain.first_token_ms.reset();
  plain.ms_per_token.reset();
  plain.job_s.reset();
  plain.weights = "random";
  plain.data = "synthetic";
  const std::string bare = print_rows(Format::md, {plain}, TableWidth::wide);
  for (const char* title : {"| gen", "first token ms", "ms/token", " job |", "Weights:", "Data:"})
    EXPECT_FALSE(contains(bare, title)) << title << " in:\n" << bare;

  Result generated = ok_row();  // new_tokens 16, first token 0.25 ms, 0.0625 ms/token
  Result unet = plain;
  unet.steps_per_job = 50;
  unet.job_s = 21.5;
  unet.data = "IMDB aclImdb/train (25000 reviews)";
  const std::string text = print_rows(Format::md, {generated, unet}, TableWidth::wide);
  for (const char* part : {"| gen", "| first token ms", "| ms/token", " job |", "21.5 s / 50 steps", "0.250", "0.0625",
                           "Weights: /models/gpt2, \"small\"/model.safetensors", "Data: IMDB aclImdb/train (25000 reviews)"})
    EXPECT_TRUE(contains(text, part)) << part << " not in:\n" << text;
}

TEST(MarkdownFormat, GraphsAndRooflineColumnsAndFallbacksAppearOnlyWhenUsed) {
  Result cpu = ok_row();
  cpu.graphs = GraphUse::off;
  cpu.graph_note.clear();
  cpu.gbps.reset();
  cpu.mbu.reset();
  const std::string bare = print_rows(Format::md, {cpu}, TableWidth::wide);
  for (const char* part : {"| graphs", " GB/s |", " MBU |", "Timed as eager steps"})
    EXPECT_FALSE(contains(bare, part)) << part << " in:\n" << bare;

  Result replayed = ok_row();
  replayed.graphs = GraphUse::tokens;
  Result eager = ok_row();
  eager.batch = 64;
  eager.graph_note = "each step reads its batch from the data set on the host (--data)";  // graphs: eager
  const std::string text = print_rows(Format::md, {cpu, replayed, eager}, TableWidth::wide);
  for (const char* part : {"| graphs", "| tokens", "| eager", " GB/s |", "3912", " MBU |", "80.0%",
                           "Timed as eager steps, not CUDA graphs:\n- each step reads its batch from the data set "
                           "on the host (--data)\n  (workload gpt2-train, device cuda:1, dtype bf16, kernels libtorch, batch 64"})
    EXPECT_TRUE(contains(text, part)) << part << " not in:\n" << text;
}

// The weight format is a column once a row stores its weights otherwise than its job would (a
// quantised model), in both layouts; rows in their own storage keep the eight columns.
TEST(MarkdownFormat, WeightsColumnAppearsForQuantisedRows) {
  Result own = ok_row();
  const std::string plain = print_rows(Format::md, {own}, TableWidth::narrow);
  EXPECT_FALSE(contains(plain, "| weights")) << plain;
  Result q4 = ok_row();
  q4.weight_format = ModelFormat::q4_0;
  for (TableWidth width : {TableWidth::narrow, TableWidth::wide}) {
    const std::string text = print_rows(Format::md, {own, q4}, width);
    EXPECT_TRUE(contains(text, "| weights")) << text;
    EXPECT_TRUE(contains(text, "| q4_0 ")) << text;
    EXPECT_TRUE(contains(text, "| bf16 ")) << text;  // the other row's own storage, named
  }
}

// A row as a run measures it: the figures derived from its samples.
Result measured(std::string workload, Job job, int64_t batch, int64_t seq, int64_t new_tokens, std::string unit,
                double items_per_step, std::vector<double> samples) {
  Result r;
  r.workload = std::move(workload);
  r.size = "full";
  r.job = job;
  r.device = "cuda:0";
  r.precision = Precision::bf16;
  r.batch = batch;
  r.seq_len = seq;
  r.new_tokens = new_tokens;
  r.item_unit = std::move(unit);
  r.items_per_step = items_per_step;
  r.flops_per_item = 1e9;
  r.peak_tflops = 989.4;
  r.samples_ms = std::move(samples);
  derive_figures(r);
  return r;
}

// The longest names and widest figures of a GPU run of the catalogue (the H200 records in
// results/), a noisy row and a failure.
std::vector<Result> realistic_rows() {
  std::vector<Result> rows = {
      measured("nanogpt-shakespeare-char", Job::train, 64, 256, 0, "tokens", 64 * 256,
               {100, 101, 99, 100, 102, 98, 100, 101, 99, 100, 160}),  // cv 17%, 1 outlier
      measured("small-transformer-imdb", Job::train, 128, 200, 0, "samples", 128, {0.965, 0.97, 0.96, 0.965, 0.966}),
      measured("llama2-7b-generate", Job::infer, 1, 512, 0, "tokens", 512, {14.8, 14.9, 14.7, 14.8, 15.1, 14.8}),
      measured("llama2-7b-generate", Job::infer, 1, 0, 128, "tokens", 128, {653.2, 653.9, 652.8}),  // n=3
      measured("gpt2-generate", Job::infer, 1, 4, 16, "tokens", 16, {9.09, 9.1, 9.08, 9.09, 9.11}),
      measured("bert-base-infer", Job::infer, 4, 512, 0, "samples", 4, {3.21, 3.22, 3.2, 3.21, 3.23}),
      measured("sd15-unet-infer", Job::infer, 1, 0, 0, "samples", 2, {}),
  };
  rows.back().status = Status::oom;
  rows.back().message = "CUDA out of memory";
  derive_figures(rows.back());
  return rows;
}

// The table's lines: from its header to the first blank line.
std::vector<std::string> table_lines(const std::string& text) {
  std::istringstream in(text.substr(text.find("| workload")));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line) && !line.empty();) lines.push_back(line);
  return lines;
}

size_t display_width(const std::string& line) {
  return static_cast<size_t>(std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

TEST(MarkdownFormat, TheDefaultTableFitsIn120Columns) {
  const std::vector<Result> rows = realistic_rows();
  const std::vector<std::string> lines = table_lines(print_rows(Format::md, rows));
  ASSERT_EQ(lines.size(), rows.size() + 2);
  for (const std::string& line : lines) EXPECT_LE(display_width(line), 120u) << line;
  const std::string text = print_rows(Format::md, rows);
  for (const char* part : {"| nanogpt-shakespeare-char |", "| b64 s256 ", "| pp512 ", "| tg128 ", "| pp4+tg16 ",
                           "| cv 17%, 1 outlier |", "| n=3 ", "133k samples/s", " oom |"})
    EXPECT_TRUE(contains(text, part)) << part << " not in:\n" << text;
  // The wide table is what it was: wider.
  const std::vector<std::string> wide = table_lines(print_rows(Format::md, rows, TableWidth::wide));
  EXPECT_GT(display_width(wide.front()), 120u);
}

TEST(MarkdownFormat, TheDefaultTableHasTheSameColumnsWhateverTheRun) {
  const std::vector<Result> rows = realistic_rows();
  for (const std::vector<Result>& some : {std::vector<Result>{rows[0]}, std::vector<Result>{rows[3]},
                                          std::vector<Result>{rows[6]}, std::vector<Result>{full_row()}}) {
    const std::string header = table_lines(print_rows(Format::md, some)).front();
    std::string titles;
    for (char c : header)
      if (c == '|' || std::isalpha(static_cast<unsigned char>(c))) titles += c;
    EXPECT_EQ(titles, "|workload|device|dtype|test|medianmssd|throughput|MFU|noise|");
  }
}

TEST(MarkdownFormat, RowsStoredBeforeTheNoiseFlagAreJudgedFromTheirSamples) {
  Result old = realistic_rows()[0];
  old.noise.clear();  // a database row from before the noise field: NULL, read as ""
  EXPECT_TRUE(contains(print_rows(Format::md, {old}), "| cv 17%, 1 outlier |"));
}

TEST(MarkdownFormat, SaysSoWhenThereAreNoRows) {
  const std::string text = print_rows(Format::md, {});
  EXPECT_TRUE(contains(text, "no results")) << text;
  EXPECT_TRUE(contains(text, "bench-01")) << text;
}

}  // namespace
}  // namespace mlspeed
