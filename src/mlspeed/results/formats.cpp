// The machine formats for any list of fields: JSON values, CSV cells and records, and reading
// them back by field name.
#include "mlspeed/results/formats.h"

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mlspeed/core/json_input.h"
#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

using Json = nlohmann::ordered_json;  // keys stay in field-list order

struct FormatName {
  Format format;
  const char* name;
};
constexpr FormatName kFormats[] = {
    {Format::md, "md"}, {Format::json, "json"}, {Format::jsonl, "jsonl"}, {Format::csv, "csv"}};

// --- values <-> JSON ------------------------------------------------------------------------

Json to_json_value(const Value& value) {
  struct Visitor {
    Json operator()(std::monostate) const { return nullptr; }
    Json operator()(bool b) const { return b; }
    Json operator()(int64_t i) const { return i; }
    Json operator()(double d) const { return d; }  // shortest text that reads back bit-exact
    Json operator()(const std::string& s) const { return s; }
    Json operator()(const std::vector<double>& xs) const { return xs; }
    Json operator()(const std::vector<int64_t>& xs) const { return xs; }
  };
  return std::visit(Visitor{}, value);
}

Value from_json_value(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return {};
    case Json::value_t::boolean: return j.get<bool>();
    case Json::value_t::number_integer: return j.get<int64_t>();
    case Json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) throw std::invalid_argument(json_excerpt(j) + " is too large");
      return static_cast<int64_t>(u);
    }
    case Json::value_t::number_float: return j.get<double>();
    case Json::value_t::string: return j.get<std::string>();
    case Json::value_t::array: {
      // Whole numbers stay whole (token ids); a list with any real in it is reals. The field the
      // value is for converts either (field_list.h).
      const bool whole = std::all_of(j.begin(), j.end(), [](const Json& x) { return x.is_number_integer(); });
      if (whole && !j.empty()) {
        std::vector<int64_t> xs;
        for (const Json& x : j) xs.push_back(std::get<int64_t>(from_json_value(x)));
        return xs;
      }
      std::vector<double> xs;
      for (const Json& x : j) {
        if (!x.is_number()) throw std::invalid_argument("expected a list of numbers, found " + json_excerpt(x));
        xs.push_back(x.get<double>());
      }
      return xs;
    }
    default: throw std::invalid_argument("unexpected " + json_excerpt(j));
  }
}

Json row_to_json(const std::vector<std::string>& names, const std::vector<Value>& values) {
  Json row = Json::object();
  for (size_t i = 0; i < names.size(); ++i) row[names[i]] = to_json_value(values.at(i));
  return row;
}

// Index of `name` in `names`, or nullopt for a field this version does not know.
std::optional<size_t> index_of(const std::vector<std::string>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

// Unknown values are left out (the field keeps its default; also how old files lacking a field
// read back). Keys no field has are skipped, so output of a newer mlspeed still reads.
ReadRow row_from_json(const Json& row, const std::string& where, const std::vector<std::string>& names) {
  if (!row.is_object())
    throw std::invalid_argument(where + ": expected an object of fields, found " + json_excerpt(row));
  ReadRow read{where, {}};
  for (const auto& [key, value] : row.items()) {
    const auto index = index_of(names, key);
    if (!index) continue;
    try {
      Value v = from_json_value(value);
      if (!std::holds_alternative<std::monostate>(v)) read.values.emplace_back(*index, std::move(v));
    } catch (const std::exception& e) {
      throw std::invalid_argument(where + ", field '" + key + "': " + e.what());
    }
  }
  return read;
}

// --- csv (RFC 4180; lines end in \n, which every CSV reader accepts) ---------------------------

struct CsvRecord {
  int line = 0;  // where the record starts, from 1
  std::vector<std::string> cells;
};

// Splits CSV text into records; quoted cells may hold commas, quotes and line breaks.
std::vector<CsvRecord> split_csv(std::string_view text) {
  std::vector<CsvRecord> records;
  CsvRecord record{1, {}};
  std::string cell;
  bool quoted = false, cell_started = false;
  int line = 1;
  auto end_record = [&] {
    record.cells.push_back(std::move(cell));
    cell.clear();
    cell_started = false;
    // A blank line is no record (a trailing newline leaves one).
    if (!(record.cells.size() == 1 && record.cells[0].empty())) records.push_back(std::move(record));
    record = CsvRecord{line, {}};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') cell += '"', ++i;
      else if (c == '"') quoted = false;
      else cell += c, line += c == '\n';
    } else if (c == '"' && !cell_started) {
      quoted = cell_started = true;
    } else if (c == ',') {
      record.cells.push_back(std::move(cell));
      cell.clear();
      cell_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else if (c == '"') {
      throw std::invalid_argument("line " + std::to_string(line) + ": a quote inside an unquoted cell");
    } else {
      cell += c;
      cell_started = true;
    }
  }
  if (quoted) throw std::invalid_argument("line " + std::to_string(record.line) + ": a quoted cell never ends");
  end_record();
  return records;
}

std::vector<ReadRow> read_csv(std::string_view text, const std::vector<std::string>& names,
                              const std::vector<FieldType>& types) {
  const std::vector<CsvRecord> records = split_csv(text);
  if (records.empty()) throw std::invalid_argument("no header line: expected the field names, comma-separated");
  std::vector<std::optional<size_t>> columns;  // nullopt: a column this version does not know, skipped
  for (const std::string& name : records[0].cells) columns.push_back(index_of(names, name));
  std::vector<ReadRow> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    ReadRow read{"line " + std::to_string(record.line), {}};
    if (record.cells.size() != columns.size())
      throw std::invalid_argument(read.where + ": " + std::to_string(record.cells.size()) + " cells, but the header has " +
                                  std::to_string(columns.size()));
    for (size_t c = 0; c < columns.size(); ++c) {
      if (!columns[c]) continue;
      try {
        Value v = value_from_text(types.at(*columns[c]), record.cells[c]);
        if (!std::holds_alternative<std::monostate>(v)) read.values.emplace_back(*columns[c], std::move(v));
      } catch (const std::exception& e) {
        throw std::invalid_argument(read.where + ", field '" + names[*columns[c]] + "': " + e.what());
      }
    }
    rows.push_back(std::move(read));
  }
  return rows;
}

std::vector<ReadRow> read_json_array(std::string_view text, const std::vector<std::string>& names) {
  const Json array = parse_json_input<Json>(text);
  if (!array.is_array()) throw std::invalid_argument(std::string("json: expected an array of rows, found ") + array.type_name());
  std::vector<ReadRow> rows;
  for (size_t i = 0; i < array.size(); ++i) rows.push_back(row_from_json(array[i], "json row " + std::to_string(i + 1), names));
  return rows;
}

std::vector<ReadRow> read_jsonl(std::string_view text, const std::vector<std::string>& names) {
  std::vector<ReadRow> rows;
  size_t start = 0;
  for (size_t line = 1; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view content = text.substr(start, end - start);
    const JsonPlace place{start, line};  // a refusal names the byte in the whole text
    start = end + 1;
    if (content.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = "line " + std::to_string(line);
    rows.push_back(row_from_json(parse_json_input<Json>(content, place), where, names));
  }
  return rows;
}

}  // namespace

std::optional<Format> parse_format(std::string_view text) {
  for (const auto& f : kFormats)
    if (text == f.name) return f.format;
  return std::nullopt;
}

std::string name(Format format) {
  for (const auto& f : kFormats)
    if (f.format == format) return f.name;
  return "?";
}

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const auto& f : kFormats) names.emplace_back(f.name);
  return names;
}

RowWriter::RowWriter(Format format, std::ostream& out, std::vector<std::string> names)
    : format_(format), out_(out), names_(std::move(names)) {
  if (format == Format::md) throw std::invalid_argument("RowWriter: md is not a machine format");
}

// The array opens once, whatever is called first, so the output always parses.
void RowWriter::open_array() {
  if (opened_) return;
  out_ << "[";
  opened_ = true;
}

void RowWriter::begin() {
  if (format_ == Format::json) {
    open_array();
  } else if (format_ == Format::csv) {
    std::string line;
    for (const std::string& name : names_) line += (line.empty() ? "" : ",") + csv_cell(name);
    out_ << line << "\n" << std::flush;
  }
}

void RowWriter::write(const std::vector<Value>& values) {
  switch (format_) {
    case Format::json:
      open_array();
      out_ << (rows_++ ? ",\n  " : "\n  ") << row_to_json(names_, values).dump() << std::flush;
      break;
    case Format::jsonl: out_ << row_to_json(names_, values).dump() << "\n" << std::flush; break;
    case Format::csv: {
      std::string line;
      for (size_t i = 0; i < values.size(); ++i) line += (i ? "," : "") + csv_cell(value_to_text(values[i]));
      out_ << line << "\n" << std::flush;
      break;
    }
    case Format::md: break;
  }
}

void RowWriter::end() {
  if (format_ == Format::json) {
    open_array();
    out_ << "\n]\n";
  }
  out_ << std::flush;
}

std::vector<ReadRow> read_rows(Format format, std::string_view text, const std::vector<std::string>& names,
                               const std::vector<FieldType>& types) {
  switch (format) {
    case Format::json: return read_json_array(text, names);
    case Format::jsonl: return read_jsonl(text, names);
    case Format::csv: return read_csv(text, names, types);
    case Format::md: break;
  }
  throw std::invalid_argument("the md format is for people and cannot be read back; use json, jsonl or csv");
}

}  // namespace mlspeed
