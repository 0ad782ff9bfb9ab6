#include "mlspeed/results/printers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "mlspeed/core/text.h"
#include "mlspeed/results/fields.h"
#include "testing/results_test_rows.h"

namespace mlspeed {
namespace {

using testing::expect_same_fields;
using testing::failed_row;
using testing::full_row;
using testing::sample_context;

std::string print(Format format, const std::vector<Result>& rows) {
  std::ostringstream out;
  auto printer = make_printer(format, out);
  printer->header(sample_context());
  for (const Result& r : rows) printer->row(r);
  printer->footer(/*complete=*/true);
  return out.str();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// An ok row as a timed configuration would produce: figures known, no failure.
Result ok_row() {
  Result r = full_row();
  r.status = Status::ok;
  r.message.clear();
  r.size = "full";
  r.repetition = 0;
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
  const std::string text = print(GetParam(), rows);
  const std::vector<Result> back = parse_results(GetParam(), text);
  ASSERT_EQ(back.size(), rows.size()) << text;
  for (size_t i = 0; i < rows.size(); ++i) expect_same_fields(rows[i], back[i], "row " + std::to_string(i));
}

TEST_P(MachineFormat, NoRowsReadsBackAsNoRows) {
  EXPECT_TRUE(parse_results(GetParam(), print(GetParam(), {})).empty());
}

INSTANTIATE_TEST_SUITE_P(Results, MachineFormat, ::testing::Values(Format::json, Format::jsonl, Format::csv),
                         [](const auto& info) { return format_names()[static_cast<size_t>(info.param)]; });

TEST(JsonFormat, IsAValidArrayWithZeroRowsAndEvenWithoutAHeader) {
  EXPECT_EQ(nlohmann::json::parse(print(Format::json, {})), nlohmann::json::array());
  std::ostringstream out;
  make_printer(Format::json, out)->footer(/*complete=*/false);  // interrupted before the header was printed
  EXPECT_EQ(nlohmann::json::parse(out.str()), nlohmann::json::array());
}

TEST(JsonFormat, OneKeyPerFieldInFieldOrderWithNativeTypes) {
  const auto array = nlohmann::ordered_json::parse(print(Format::json, {failed_row()}));
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
  const std::string text = print(Format::jsonl, {full_row(), failed_row()});
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
  const std::string text = print(Format::csv, {failed_row(), full_row()});
  std::vector<std::string> names;
  for (const Field& f : result_fields()) names.push_back(f.name);
  EXPECT_EQ(text.substr(0, text.find('\n')), join(names, ","));
  EXPECT_TRUE(contains(text, "\"CUDA out of memory, tried to allocate \"\"2.5 GiB\"\"\nfree: 1.1 GiB\""));
  EXPECT_TRUE(contains(text, ",1.5 0.30000000000000004 0.33333333333333331 1e-300,"));
  EXPECT_TRUE(contains(text, ",oom,"));
  EXPECT_TRUE(contains(text, ",,,")) << "unknown values are empty cells";
}

TEST(CsvFormat, AcceptsCrLfLineEndings) {
  std::string text = print(Format::csv, {full_row()});
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

TEST(MarkdownFormat, PrintsContextTableAndFailures) {
  Result failed = failed_row();
  failed.repetition = 0;
  const std::string text = print(Format::md, {ok_row(), failed});
  EXPECT_TRUE(contains(text, "bench-01")) << text;                       // context block
  EXPECT_TRUE(contains(text, "AMD EPYC 9654 96-Core Processor")) << text;
  EXPECT_TRUE(contains(text, "| workload ")) << text;
  EXPECT_TRUE(contains(text, "gpt2-train")) << text;
  EXPECT_TRUE(contains(text, "sd15-unet-infer")) << text;
  EXPECT_TRUE(contains(text, "cuda:1")) << text;
  EXPECT_TRUE(contains(text, "bf16")) << text;
  EXPECT_TRUE(contains(text, " 345 |")) << text;                         // seq
  EXPECT_TRUE(contains(text, "0.333 ± 0.123")) << text;                  // median ± stddev
  EXPECT_TRUE(contains(text, "24.6k tokens/s")) << text;
  EXPECT_TRUE(contains(text, "18.3")) << text;                           // TFLOP/s
  EXPECT_TRUE(contains(text, "1.9%")) << text;                           // MFU
  EXPECT_TRUE(contains(text, "3.0 GiB")) << text;                        // peak memory
  EXPECT_TRUE(contains(text, "| oom ")) << text;
  EXPECT_TRUE(contains(text, " - |")) << "unknowns show as -:\n" << text;
  // The note gives the outcome and message on one line, then the configuration.
  EXPECT_TRUE(contains(text, "Not measured:\n- oom — CUDA out of memory, tried to allocate \"2.5 GiB\" free: 1.1 GiB\n"
                             "  (workload sd15-unet-infer, device cuda:1, dtype bf16, batch 12, seq 345, gen 16)"))
      << text;
  EXPECT_FALSE(contains(text, "| size")) << "every row is full size:\n" << text;
  EXPECT_FALSE(contains(text, "| rep")) << "no row repeats:\n" << text;
}

TEST(MarkdownFormat, RowsNotMeasuredForOneReasonShareOneNote) {
  Result a = failed_row(), b = failed_row(), c = failed_row();
  a.status = b.status = Status::unsupported;
  a.message = b.message = "tf32 needs a GPU";
  a.batch = 1;
  b.batch = 2;
  const std::string text = print(Format::md, {a, ok_row(), b, c});
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
  const std::string text = print(Format::md, {ok_row(), tiny});
  EXPECT_TRUE(contains(text, "| size")) << text;
  EXPECT_TRUE(contains(text, "| rep")) << text;
  EXPECT_TRUE(contains(text, "| tiny ")) << text;
}

TEST(MarkdownFormat, TableLinesLineUpAndNumbersAlignRight) {
  const std::string text = print(Format::md, {ok_row(), failed_row()});
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
  const std::string bare = print(Format::md, {plain});
  for (const char* title : {"| gen", "first token ms", "ms/token", " job |", "Weights:", "Data:"})
    EXPECT_FALSE(contains(bare, title)) << title << " in:\n" << bare;

  Result generated = ok_row();  // new_tokens 16, first token 0.25 ms, 0.0625 ms/token
  Result unet = plain;
  unet.steps_per_job = 50;
  unet.job_s = 21.5;
  unet.data = "IMDB aclImdb/train (25000 reviews)";
  const std::string text = print(Format::md, {generated, unet});
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
  const std::string bare = print(Format::md, {cpu});
  for (const char* part : {"| graphs", " GB/s |", " MBU |", "Timed as eager steps"})
    EXPECT_FALSE(contains(bare, part)) << part << " in:\n" << bare;

  Result replayed = ok_row();
  replayed.graphs = GraphUse::tokens;
  Result eager = ok_row();
  eager.batch = 64;
  eager.graph_note = "each step reads its batch from the data set on the host (--data)";  // graphs: eager
  const std::string text = print(Format::md, {cpu, replayed, eager});
  for (const char* part : {"| graphs", "| tokens", "| eager", " GB/s |", "3912", " MBU |", "80.0%",
                           "Timed as eager steps, not CUDA graphs:\n- each step reads its batch from the data set "
                           "on the host (--data)\n  (workload gpt2-train, device cuda:1, dtype bf16, batch 64"})
    EXPECT_TRUE(contains(text, part)) << part << " not in:\n" << text;
}

TEST(MarkdownFormat, SaysSoWhenThereAreNoRows) {
  const std::string text = print(Format::md, {});
  EXPECT_TRUE(contains(text, "no results")) << text;
  EXPECT_TRUE(contains(text, "bench-01")) << text;
}

}  // namespace
}  // namespace mlspeed
