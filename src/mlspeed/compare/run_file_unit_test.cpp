#include "mlspeed/compare/run_file.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

#include "mlspeed/compare/imported_run.h"
#include "mlspeed/results/database.h"
#include "mlspeed/results/fields.h"
#include "mlspeed/results/printers.h"
#include "mlspeed/results/row_table.h"
#include "mlspeed/verify/check_fields.h"
#include "testing/check_test_rows.h"
#include "testing/results_test_rows.h"
#include "testing/test_support.h"

namespace mlspeed {
namespace {

LoadedRun sample_run() {
  LoadedRun run;
  run.name = "run 12";
  run.run.id = 12;
  run.run.started_at = "2026-01-02T03:04:05Z";
  run.run.finished_at = "2026-01-02T03:09:00Z";
  run.run.status = "interrupted";
  run.run.command = "mlspeed run -w gpt2-train -d all --label \"driver 580\"";
  run.run.kind = "run";
  run.run.label = "driver 580";
  run.run.context = testing::sample_context();
  run.rows<Result>() = {testing::full_row(), testing::failed_row()};
  return run;
}

void expect_same_record(const StoredRun& a, const StoredRun& b) {
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.label, b.label);
  testing::expect_same_context(a.context, b.context);
}

TEST(RunFile, RoundTripKeepsRecordContextAndEveryField) {
  const LoadedRun run = sample_run();
  const RunFile back = read_run_file(write_run_file(run), "m3max.json");
  EXPECT_EQ(back.run.name, "m3max.json");
  EXPECT_EQ(back.run.run.id, 12);
  EXPECT_EQ(back.run.run.command, run.run.command);
  expect_same_record(run.run, back.run.run);
  ASSERT_EQ(back.run.rows<Result>().size(), 2u);
  testing::expect_same_fields(run.rows<Result>()[0], back.run.rows<Result>()[0], "row 0");
  testing::expect_same_fields(run.rows<Result>()[1], back.run.rows<Result>()[1], "row 1");
  EXPECT_FALSE(back.context_rebuilt);
  EXPECT_FALSE(back.run.published());
}

TEST(RunFile, RoundTripOfAVerifyRunKeepsEveryCheckField) {
  LoadedRun run = sample_run();
  run.run.kind = "verify";
  run.rows<Result>().clear();
  run.rows<verify::CheckResult>() = {testing::full_check(), testing::check_row("cpu", "softmax", verify::Outcome::fail, "NaN at [3]")};
  const RunFile back = read_run_file(write_run_file(run), "v.json");
  ASSERT_EQ(back.run.rows<verify::CheckResult>().size(), 2u);
  EXPECT_TRUE(back.run.rows<Result>().empty());
  testing::expect_same_check(run.rows<verify::CheckResult>()[0], back.run.rows<verify::CheckResult>()[0], "check 0");
  testing::expect_same_check(run.rows<verify::CheckResult>()[1], back.run.rows<verify::CheckResult>()[1], "check 1");
}

TEST(RunFile, PublishedSetCarriesItsCitationAndUnpublishedOneDoesNot) {
  LoadedRun published = sample_run();
  published.citation = "Macbook Pro GPU for ML? (blog), table 1";
  const RunFile a = read_run_file(write_run_file(published, "BERT on a T4"), "ref:bert-t4");
  EXPECT_TRUE(a.published);
  EXPECT_TRUE(a.run.published());
  EXPECT_EQ(a.run.citation, published.citation);
  EXPECT_EQ(a.description, "BERT on a T4");

  const RunFile b = read_run_file(write_run_file(sample_run(), "own run", "results/2026-11-23-h100"), "ref:own");
  EXPECT_FALSE(b.published);
  EXPECT_FALSE(b.run.published());  // mlspeed's own runs are not published figures
  EXPECT_EQ(b.citation, "results/2026-11-23-h100");
}

// `show -o json` and `-o jsonl` write rows only; the context is rebuilt from their machine fields.
TEST(RunFile, ReadsShowOutputAndRebuildsTheContextFromTheRows) {
  const LoadedRun run = sample_run();
  for (Format format : {Format::json, Format::jsonl}) {
    std::ostringstream out;
    auto printer = make_printer(format, out);
    printer->header(run.run.context);
    for (const Result& row : run.rows<Result>()) printer->row(row);
    printer->footer(true);
    const RunFile back = read_run_file(out.str(), "show.json");
    EXPECT_TRUE(back.context_rebuilt);
    EXPECT_EQ(back.run.run.kind, "run");
    EXPECT_EQ(back.run.run.status, "unknown");
    ASSERT_EQ(back.run.rows<Result>().size(), 2u);
    testing::expect_same_fields(run.rows<Result>()[1], back.run.rows<Result>()[1], "row 1");
    const RunContext& context = back.run.run.context;
    testing::expect_same_host(run.rows<Result>()[0].host, context.host);
    ASSERT_EQ(context.devices.size(), 1u);  // both rows ran on one device
    EXPECT_EQ(context.devices[0].id, run.rows<Result>()[0].device);
    EXPECT_EQ(context.devices[0].name, run.rows<Result>()[0].device_facts.name);
    EXPECT_NE(context.command.find("rebuilt"), std::string::npos);
    EXPECT_EQ(back.run.run.started_at, run.rows<Result>()[0].timestamp);
  }
}

TEST(RunFile, ReadsVerifyShowOutputAsChecks) {
  std::ostringstream out;
  RowWriter writer = make_row_writer(Format::jsonl, out, verify::check_fields());
  writer.write(values_of(verify::check_fields(), testing::full_check()));
  writer.end();
  const RunFile back = read_run_file(out.str(), "v.jsonl");
  EXPECT_EQ(back.run.run.kind, "verify");
  ASSERT_EQ(back.run.rows<verify::CheckResult>().size(), 1u);
  testing::expect_same_check(testing::full_check(), back.run.rows<verify::CheckResult>()[0], "check");
}

TEST(RunFile, RefusesWhatIsNotARun) {
  auto message = [](const std::string& text) {
    try {
      read_run_file(text, "x");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("hello").find("neither a file written by `mlspeed export`"), std::string::npos);
  EXPECT_NE(message("[]").find("empty list"), std::string::npos);
  EXPECT_NE(message(R"([{"name": 1}])").find("has none of the fields of a result, check or generation"), std::string::npos);
  EXPECT_NE(message(R"({"mlspeed_run_file": 99, "run": {}, "context": {}, "rows": []})").find("newer mlspeed"),
            std::string::npos);
  EXPECT_NE(message(R"({"mlspeed_run_file": 1, "run": {}})").find("lacks"), std::string::npos);
  EXPECT_NE(message(R"({"mlspeed_run_file": 1, "run": {"kind": "x"}, "context": {}, "rows": []})").find("kind 'x'"),
            std::string::npos);
  EXPECT_NE(message(R"([{"workload": "a", "batch": "four"}])").find("batch"), std::string::npos);
}

// The message read_run_file throws for `text`, or "no error".
std::string run_file_refusal(const std::string& text) {
  try {
    read_run_file(text, "x");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

std::string file_with_version(const std::string& version) {
  std::string text = write_run_file(sample_run());
  const std::string key = "\"mlspeed_run_file\": 1";
  return text.replace(text.find(key), key.size(), "\"mlspeed_run_file\": " + version);
}

TEST(RunFile, OnlyVersionsThatExistAreRead) {
  for (const char* version : {"18446744073709551615", "9223372036854775808", "-1", "0", "1.5", "\"1\"", "null"}) {
    const std::string message = run_file_refusal(file_with_version(version));
    EXPECT_NE(message.find("this mlspeed reads run file version 1"), std::string::npos) << version << ": " << message;
  }
  EXPECT_NE(run_file_refusal(file_with_version("2")).find("newer mlspeed"), std::string::npos);
  EXPECT_EQ(run_file_refusal(file_with_version("1")), "no error");
}

// nlohmann's dump() recurses: a value nested 100,000 deep must be refused before anything walks it.
TEST(RunFile, NestingDeeperThanTheFormatNeedsIsRefusedAtItsByte) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string rows = R"({"mlspeed_run_file": 1, "run": {"kind": "run"}, "context": {}, "rows": )" + deep + "}";
  const std::string message = run_file_refusal(rows);
  EXPECT_NE(message.find("byte " + std::to_string(rows.find('[') + 15)), std::string::npos) << message;
  EXPECT_NE(message.find("16 levels"), std::string::npos) << message;
  EXPECT_LT(message.size(), 200u) << message;
  for (const std::string& text : {"[" + deep + "]", R"({"workload": "a"})" "\n" R"({"workload": )" + deep + "}",
                                  deep}) {
    const std::string m = run_file_refusal(text);
    EXPECT_NE(m.find("16 levels"), std::string::npos) << m.substr(0, 300);
  }
}

TEST(RunFile, AValueQuotedInAMessageIsCutAndEscaped) {
  const std::string samples = std::string(1000, '[') + std::string(1000, ']');
  const std::string row = R"({"workload": "a", "device": "cpu", "status": "ok", "samples_ms": [)" + samples + "]}";
  const std::string message = run_file_refusal("[" + row + "]");
  EXPECT_LT(message.size(), 200u) << message.substr(0, 400);
  const std::string kind = run_file_refusal(R"({"mlspeed_run_file": 1, "run": {"kind": "a\nb)" + std::string(500, 'c') +
                                      R"("}, "context": {}, "rows": []})");
  EXPECT_NE(kind.find("a\\x0ab"), std::string::npos) << kind;
  EXPECT_LT(kind.size(), 200u) << kind;
}

// The run file of `run` with its record's kind edited to `kind`, as a forger would.
std::string edited_kind(const LoadedRun& run, const std::string& kind) {
  std::string text = write_run_file(run);
  const std::string key = "\"kind\":\"" + run.run.kind + "\"";
  return text.replace(text.find(key), key.size(), "\"kind\":\"" + kind + "\"");
}

TEST(RunFile, RowsMustBeRowsOfTheRunsKind) {
  std::string message = run_file_refusal(edited_kind(sample_run(), "verify"));  // speed results as checks
  EXPECT_NE(message.find("row 1"), std::string::npos) << message;

  LoadedRun checks = sample_run();
  checks.run.kind = "verify";
  checks.rows<Result>().clear();
  checks.rows<verify::CheckResult>() = {testing::full_check()};
  message = run_file_refusal(edited_kind(checks, "run"));
  EXPECT_NE(message.find("row 1"), std::string::npos) << message;

  // `show -o jsonl`: a result after a check is not a check.
  std::ostringstream lines;
  RowWriter writer = make_row_writer(Format::jsonl, lines, verify::check_fields());
  writer.write(values_of(verify::check_fields(), testing::full_check()));
  writer.end();
  message = run_file_refusal(lines.str() + R"({"workload": "bert-base-infer", "device": "cpu", "status": "ok"})" "\n");
  EXPECT_NE(message.find("row 2"), std::string::npos) << message;
}

TEST(RunFile, AFileCutShortIsRefusedWhereItEnds) {
  const std::string whole = write_run_file(sample_run());
  const std::string cut = whole.substr(0, whole.size() / 2);
  EXPECT_NE(run_file_refusal(cut).find("byte " + std::to_string(cut.size())), std::string::npos) << run_file_refusal(cut);

  std::ostringstream lines;
  auto printer = make_printer(Format::jsonl, lines);
  const LoadedRun run = sample_run();
  printer->header(run.run.context);
  for (const Result& row : run.rows<Result>()) printer->row(row);
  printer->footer(true);
  const std::string jsonl = lines.str().substr(0, lines.str().size() - 40);
  const std::string message = run_file_refusal(jsonl);
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
  EXPECT_NE(message.find("byte " + std::to_string(jsonl.size())), std::string::npos) << message;
}

TEST(RunFile, StoredImportKeepsContextStatusAndRowsAndSaysWhereItCameFrom) {
  testing::TempDir dir;
  Database db(dir.file("r.db"));
  const LoadedRun run = sample_run();
  const int64_t id = store_imported_run(db, run, "mlspeed import m3max.json", "");
  const std::optional<StoredRun> stored = db.run(id);
  ASSERT_TRUE(stored);
  expect_same_record(run.run, *stored);
  EXPECT_EQ(stored->command, "mlspeed import m3max.json");
  EXPECT_EQ(stored->context.command, run.run.context.command);  // how it was measured stays
  EXPECT_EQ(stored->row_count, 2);
  const std::vector<Result> rows = load_rows<Result>(db, id);
  ASSERT_EQ(rows.size(), 2u);
  Result expected = run.rows<Result>()[0];
  expected.run_id = id;
  testing::expect_same_fields(expected, rows[0], "row 0");

  const int64_t relabelled = store_imported_run(db, run, "mlspeed import m3max.json --label friend", "friend");
  EXPECT_EQ(db.run(relabelled)->label, "friend");
}

}  // namespace
}  // namespace mlspeed
