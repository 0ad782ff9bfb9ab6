// The run-file reader (compare/run_file.h: what `mlspeed import FILE` and `compare FILE` read,
// files from other machines) on arbitrary text: an export's JSON object, a `show -o json` array or
// `-o jsonl` lines. It reads the text or refuses it with std::invalid_argument, and a refusal is
// one short line, as `import` prints it after "FILE cannot be imported: ": no line break, no
// control character, at most kLongestRefusal bytes (values from the file are quoted cut short).
// Nesting 100,000 levels deep, more than -max_len lets the fuzzer write, is refused at start-up.
// A file it reads is of a kind there is (compare/row_kinds.h) and holds rows of its kind only (a
// speed run results, a verify run checks, a generate run generations), and round-trips: written
// by write_run_file and read again it has the same kind and number of rows of each kind, the same
// record, context, description and citation and every field of every row, and writing that gives
// the identical text.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "mlspeed/compare/row_kinds.h"
#include "mlspeed/compare/run_file.h"
#include "mlspeed/core/text.h"
#include "mlspeed/results/context.h"

using namespace mlspeed;

namespace {

// The longest refusal is some 200 bytes (a row, a field and a value cut to 60 characters, or
// nlohmann's reason cut to 90); this leaves room for rewording but not for quoting a whole file.
constexpr size_t kLongestRefusal = 600;

void check_refusal(const std::string& message) {
  const bool control = std::any_of(message.begin(), message.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (message.empty() || message.size() > kLongestRefusal || control)
    std::fprintf(stderr, "fuzz: the refusal (%zu bytes): %s\n", message.size(), printable(message).c_str());
  MLSPEED_FUZZ_CHECK(!message.empty());
  MLSPEED_FUZZ_CHECK(message.size() <= kLongestRefusal);
  MLSPEED_FUZZ_CHECK(!control);
}

// The file `text` holds, or nothing when the reader refuses it (checking how). Any exception but
// std::invalid_argument escapes to libFuzzer: a finding.
std::optional<RunFile> read_or_refuse(std::string_view text) {
  try {
    return read_run_file(text, "fuzz.json");
  } catch (const std::invalid_argument& e) {
    check_refusal(e.what());
    return std::nullopt;
  }
}

// A kind there is, and rows of that kind only: the reader refuses a check in a speed run, a
// result in a verify run, and so on.
void check_kind(const LoadedRun& run) {
  MLSPEED_FUZZ_CHECK(RowKinds::visit(run.run.kind, [](auto) {}));
  RowKinds::for_each([&](auto kind) {
    using Row = typename decltype(kind)::type;
    MLSPEED_FUZZ_CHECK(run.rows<Row>().empty() || run.run.kind == RowType<Row>::kind);
  });
  MLSPEED_FUZZ_CHECK(run.run.row_count == static_cast<int64_t>(run.row_count()));
}

bool same_record(const StoredRun& a, const StoredRun& b) {
  return std::tie(a.id, a.started_at, a.finished_at, a.status, a.command, a.kind, a.label, a.row_count) ==
             std::tie(b.id, b.started_at, b.finished_at, b.status, b.command, b.kind, b.label, b.row_count) &&
         nlohmann::json(a.context) == nlohmann::json(b.context);
}

// The same number of rows of each kind, and every field of every row as its field list reads it.
void check_same_rows(const LoadedRun& a, const LoadedRun& b) {
  RowKinds::for_each([&](auto kind) {
    using Row = typename decltype(kind)::type;
    const auto& fields = RowType<Row>::fields();
    const std::vector<Row>& rows = a.rows<Row>();
    MLSPEED_FUZZ_CHECK(rows.size() == b.rows<Row>().size());
    for (size_t i = 0; i < rows.size(); ++i)
      MLSPEED_FUZZ_CHECK(values_of(fields, rows[i]) == values_of(fields, b.rows<Row>()[i]));
  });
}

// What `import` then `export` makes of `file`, with its description and citation.
std::string written(const RunFile& file) {
  return write_run_file(file.run, file.description, file.published ? "" : file.citation);
}

void check_round_trip(const RunFile& file) {
  const std::string text = written(file);
  const std::optional<RunFile> again = read_or_refuse(text);
  if (!again) {
    std::fprintf(stderr, "fuzz: write_run_file wrote a file read_run_file refuses:\n%s", text.c_str());
    fuzz::broken("a written run file reads back");
  }
  check_kind(again->run);
  MLSPEED_FUZZ_CHECK(again->run.run.kind == file.run.run.kind);
  MLSPEED_FUZZ_CHECK(again->run.published() == file.run.published());
  MLSPEED_FUZZ_CHECK(again->description == file.description && again->citation == file.citation);
  MLSPEED_FUZZ_CHECK(same_record(again->run.run, file.run.run));
  check_same_rows(again->run, file.run);
  MLSPEED_FUZZ_CHECK(written(*again) == text);
}

// `open` repeated `levels` times, then `inner`, then `close` as often.
std::string nested(const std::string& open, const std::string& inner, const std::string& close, size_t levels) {
  std::string text;
  for (size_t i = 0; i < levels; ++i) text += open;
  text += inner;
  for (size_t i = 0; i < levels; ++i) text += close;
  return text;
}

// A value nested 100,000 levels deep (200 KB of brackets) where each form of file holds one:
// printing it in a message, or dumping the rows, would recurse once a level.
void check_deep_nesting_is_refused() {
  constexpr size_t kLevels = 100000;
  const std::string deep = nested("[", "1", "]", kLevels);
  const std::string inputs[] = {
      deep,
      nested("{\"a\":", "1", "}", kLevels),
      "[" + deep + "]",
      "{\"mlspeed_run_file\": 1, \"run\": {\"kind\": \"run\"}, \"context\": {}, \"rows\": [" + deep + "]}",
      "{\"mlspeed_run_file\": 1, \"run\": {\"kind\": \"run\"}, \"context\": {\"devices\": " + deep + "}, \"rows\": []}",
      "{\"workload\": \"w\", \"device\": \"cpu\", \"status\": \"ok\", \"samples_ms\": " + deep + "}\n",
  };
  for (const std::string& input : inputs) MLSPEED_FUZZ_CHECK(!read_or_refuse(input));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  check_deep_nesting_is_refused();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::optional<RunFile> file = read_or_refuse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!file) return 0;
  check_kind(file->run);
  check_round_trip(*file);
  return 0;
}
