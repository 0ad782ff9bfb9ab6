#include "mlspeed/compare/run_file.h"

#include <algorithm>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mlspeed/compare/match_key.h"
#include "mlspeed/core/json_input.h"
#include "mlspeed/core/text.h"
#include "mlspeed/compare/row_kinds.h"
#include "mlspeed/results/context.h"
#include "mlspeed/results/formats.h"

namespace mlspeed {
namespace {

using nlohmann::json;

constexpr const char* kVersionKey = "mlspeed_run_file";
constexpr const char* kNotARun =
    "it is neither a file written by `mlspeed export` nor the output of `mlspeed show -o json` or `-o jsonl`";
constexpr const char* kRebuiltCommand =
    "unknown: this context was rebuilt from the rows of a `show -o json|jsonl` file, which records no command "
    "line and no process-wide precision flags";

// The rows as `show -o jsonl` writes them, one JSON object per line, joined into an array body.
template <class Row> std::string rows_text(const std::vector<Row>& rows) {
  std::ostringstream lines;
  RowWriter writer = make_row_writer(Format::jsonl, lines, RowType<Row>::fields());
  for (const Row& row : rows) writer.write(values_of(RowType<Row>::fields(), row));
  writer.end();
  std::string body;
  std::istringstream in(lines.str());
  for (std::string line; std::getline(in, line);) body += (body.empty() ? "  " : ",\n  ") + line;
  return body;
}

json record_json(const StoredRun& run) {
  return json{{"id", run.id},         {"started_at", run.started_at}, {"finished_at", run.finished_at},
              {"status", run.status}, {"command", run.command},       {"kind", run.kind},
              {"label", run.label}};
}

StoredRun record_from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("\"run\" is not an object");
  StoredRun run;
  read_json_key(j, "id", run.id);
  read_json_key(j, "started_at", run.started_at);
  read_json_key(j, "finished_at", run.finished_at);
  read_json_key(j, "status", run.status);
  read_json_key(j, "command", run.command);
  read_json_key(j, "kind", run.kind);
  read_json_key(j, "label", run.label);
  return run;
}

// The first of the fields every `Row` has (RowType::key_fields) that `read` lacks, or "".
template <class Row> std::string missing_key_field(const ReadRow& read) {
  const auto& fields = RowType<Row>::fields();
  for (const std::string& key : RowType<Row>::key_fields()) {
    const bool has = std::any_of(read.values.begin(), read.values.end(),
                                 [&](const auto& value) { return fields[value.first].name == key; });
    if (!has) return key;
  }
  return "";
}

// The kind of row (RowType<Row>::kind) whose key fields `read` all has, other than `Row`'s; ""
// when none. `read` was read with `Row`'s field list, so each kind is looked for in `text` anew.
template <class Row>
std::string other_kind(Format format, std::string_view text, size_t index) {
  std::string found;
  RowKinds::for_each([&](auto kind) {
    using Other = typename decltype(kind)::type;
    if constexpr (!std::is_same_v<Other, Row>) {
      try {
        if (found.empty() && missing_key_field<Other>(read_rows(format, text, RowType<Other>::fields()).at(index)).empty())
          found = RowType<Other>::noun;
      } catch (const std::exception&) {
        // Not a row of this kind either.
      }
    }
  });
  return found;
}

// Why row `index` (from 0) of `text` is no `Row`: it is a row of another kind (a speed run edited
// to say "verify"), or it lacks `missing`.
template <class Row>
std::string not_a_row(Format format, std::string_view text, size_t index, const ReadRow& read,
                      const std::string& missing) {
  const std::string row = "row " + std::to_string(index + 1) + (format == Format::jsonl ? " (" + read.where + ")" : "");
  const std::string keys = join(RowType<Row>::key_fields(), ", ");
  const std::string other = other_kind<Row>(format, text, index);
  if (!other.empty())
    return row + " is a " + other + ", not a " + RowType<Row>::noun + ": a run of kind " + RowType<Row>::kind +
           " holds " + RowType<Row>::noun + "s only (each with " + keys + ")";
  return row + " lacks \"" + missing + "\", which every " + RowType<Row>::noun + " has (" + keys + ")";
}

// The rows of `text`, each checked to be a `Row`: a check's outcome defaults to pass, so a speed
// run edited to say "verify" would otherwise read as checks that all passed, and a verify run
// edited to say "run" as results that measured nothing.
template <class Row> std::vector<Row> rows_of_kind(Format format, std::string_view text) {
  const std::vector<ReadRow> read = read_rows(format, text, RowType<Row>::fields());
  std::vector<Row> rows;
  for (size_t i = 0; i < read.size(); ++i) {
    rows.push_back(row_from(read[i], RowType<Row>::fields()));
    const std::string missing = missing_key_field<Row>(read[i]);
    if (!missing.empty()) throw std::invalid_argument(not_a_row<Row>(format, text, i, read[i], missing));
  }
  return rows;
}

// What a file without a run record still says about where its rows were measured: the host and
// each device's facts, as every row carries them.
template <class Row> RunContext rebuilt_context(const std::vector<Row>& rows) {
  RunContext context;
  context.command = kRebuiltCommand;
  context.host = rows.front().host;
  for (const Row& row : rows) {
    const bool known = std::any_of(context.devices.begin(), context.devices.end(),
                                   [&](const DeviceFacts& d) { return d.id == row.device; });
    if (known) continue;
    DeviceFacts facts = row.device_facts;
    facts.id = row.device;
    facts.kind = device_kind(row.device);
    const auto colon = row.device.find(':');
    if (colon != std::string::npos) facts.index = std::atoi(row.device.c_str() + colon + 1);
    context.devices.push_back(facts);
  }
  return context;
}

// A run of `rows` alone: times from the rows' own, status unknown (a row list cannot say whether
// the run completed).
template <class Row> void fill_from_rows(RunFile& file, std::vector<Row> rows) {
  if (rows.empty()) throw std::invalid_argument("it holds no rows");
  StoredRun& run = file.run.run;
  run.kind = RowType<Row>::kind;
  run.status = "unknown";
  run.context = rebuilt_context(rows);
  for (const Row& row : rows) {
    if (row.timestamp.empty()) continue;
    if (run.started_at.empty() || row.timestamp < run.started_at) run.started_at = row.timestamp;
    run.finished_at = std::max(run.finished_at, row.timestamp);
  }
  run.context.started_at = run.started_at;
  run.row_count = static_cast<int64_t>(rows.size());
  file.context_rebuilt = true;
  file.run.rows<Row>() = std::move(rows);
}

// `show -o json` (an array) or `-o jsonl` (objects, one a line) of any kind of row: the kind
// whose key fields (RowType::key_fields) the first row has most of, the first listed on a tie (a
// generation has a result's and its token ids); each row is then checked to be of that kind.
void read_row_list(RunFile& file, const json& first_row, Format format, std::string_view text) {
  if (!first_row.is_object()) throw std::invalid_argument("its first row is not a JSON object");
  std::string kind;
  std::vector<std::string> all_keys;
  size_t most = 0;
  RowKinds::for_each([&](auto tag) {
    const std::vector<std::string> keys = RowType<typename decltype(tag)::type>::key_fields();
    const auto has = static_cast<size_t>(
        std::count_if(keys.begin(), keys.end(), [&](const std::string& k) { return first_row.contains(k); }));
    if (has > most) {
      kind = RowType<typename decltype(tag)::type>::kind;
      most = has;
    }
    for (const std::string& k : keys)
      if (std::find(all_keys.begin(), all_keys.end(), k) == all_keys.end()) all_keys.push_back(k);
  });
  if (kind.empty())
    throw std::invalid_argument("its first row has none of the fields of a " + RowKinds::nouns() + " (" + join(all_keys, ", ") +
                                ")");
  RowKinds::visit(kind, [&](auto tag) { fill_from_rows(file, rows_of_kind<typename decltype(tag)::type>(format, text)); });
}

// Only the versions that exist: 2^64 - 1 (which read as a signed number is -1), 0, 1.5 or "1"
// is no version any mlspeed wrote.
void check_version(const json& version) {
  const bool whole = version.is_number_unsigned();  // nlohmann reads every number from 0 up as unsigned
  const uint64_t newest = kRunFileVersion;
  if (whole && version.get<uint64_t>() >= 1 && version.get<uint64_t>() <= newest) return;
  const std::string reads = printf_string("this mlspeed reads run file version %d", kRunFileVersion);
  if (whole && version.get<uint64_t>() > newest)
    throw std::invalid_argument("it was written by a newer mlspeed (run file version " + version.dump() + "); " +
                                reads + ": upgrade mlspeed to read it");
  throw std::invalid_argument("its " + std::string(kVersionKey) + " is " + json_excerpt(version) +
                              ", which is no version of the format; " + reads);
}

void read_full_file(RunFile& file, const json& j) {
  check_version(j.at(kVersionKey));
  if (!j.contains("run") || !j.contains("context") || !j.contains("rows"))
    throw std::invalid_argument("it lacks one of \"run\", \"context\" and \"rows\"");
  LoadedRun& loaded = file.run;
  loaded.run = record_from_json(j.at("run"));
  j.at("context").get_to(loaded.run.context);
  read_json_key(j, "citation", file.citation);
  read_json_key(j, "description", file.description);
  read_json_key(j, "published", file.published);
  if (file.published) loaded.citation = file.citation;  // LoadedRun::published() follows it
  if (!j.at("rows").is_array()) throw std::invalid_argument("\"rows\" is not an array");
  const std::string rows = j.at("rows").dump();
  const bool known = RowKinds::visit(loaded.run.kind, [&](auto kind) {
    using Row = typename decltype(kind)::type;
    loaded.rows<Row>() = rows_of_kind<Row>(Format::json, rows);
  });
  if (!known)
    throw std::invalid_argument("its run has kind '" + excerpt(loaded.run.kind) + "', not " + RowKinds::kinds());
  loaded.run.row_count = static_cast<int64_t>(loaded.row_count());
}

// JSON lines (`show -o jsonl`, also a single line) begin with a line that is a whole row object:
// that row, or nothing for one JSON document (an export, whose first line is "{", or a
// `show -o json` array).
std::optional<json> first_json_line(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return std::nullopt;
  const std::string_view line = text.substr(start, text.find('\n', start) - start);
  try {
    json first = parse_json_input<json>(line);
    if (first.is_object() && !first.contains(kVersionKey)) return first;
  } catch (const std::invalid_argument&) {
    // Not a line of its own: read as one document, whose refusal names the byte.
  }
  return std::nullopt;
}

void read_document(RunFile& file, std::string_view text) {
  // Every run file opens an object or an array; anything else is not one, whatever follows.
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || (text[start] != '{' && text[start] != '['))
    throw std::invalid_argument(kNotARun);
  const json whole = parse_json_input<json>(text);
  if (whole.is_object() && whole.contains(kVersionKey)) {
    read_full_file(file, whole);
  } else if (whole.is_array()) {
    if (whole.empty()) throw std::invalid_argument("it is an empty list of rows");
    read_row_list(file, whole.front(), Format::json, text);
  } else {
    throw std::invalid_argument(kNotARun);
  }
}

}  // namespace

std::string write_run_file(const LoadedRun& run, const std::string& description, const std::string& citation) {
  std::string out = "{\n \"" + std::string(kVersionKey) + "\": " + std::to_string(kRunFileVersion) + ",\n";
  out += " \"run\": " + record_json(run.run).dump() + ",\n";
  // A published figure's citation is the run's own; an unpublished source (mlspeed's recorded
  // runs) is cited by the caller.
  const std::string& cited = run.published() ? run.citation : citation;
  if (!cited.empty()) {
    out += " \"citation\": " + json(cited).dump() + ",\n";
    out += std::string(" \"published\": ") + (run.published() ? "true" : "false") + ",\n";
  }
  if (!description.empty()) out += " \"description\": " + json(description).dump() + ",\n";
  out += " \"context\": " + json(run.run.context).dump() + ",\n";
  std::string rows;
  if (!RowKinds::visit(run.run.kind, [&](auto kind) { rows = rows_text(run.rows<typename decltype(kind)::type>()); }))
    throw std::invalid_argument("a run of kind '" + excerpt(run.run.kind) + "', not " + RowKinds::kinds());
  out += " \"rows\": [\n" + rows + (rows.empty() ? "" : "\n") + " ]\n}\n";
  return out;
}

RunFile read_run_file(std::string_view text, const std::string& name) {
  RunFile file;
  file.run.name = name;
  // Nesting is bounded before anything is built (core/json_input.h): a value nested 100,000 deep
  // would overflow the stack in dump().
  try {
    if (const std::optional<json> first = first_json_line(text)) read_row_list(file, *first, Format::jsonl, text);
    else read_document(file, text);
  } catch (const json::exception& e) {
    throw std::invalid_argument(excerpt(e.what(), 160));  // a type error in a field of the context
  }
  return file;
}

}  // namespace mlspeed
