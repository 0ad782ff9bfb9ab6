// The machine formats (json, jsonl, csv) and reading them back. Every one walks result_fields(),
// so a field added there is printed and parsed everywhere with no change here.
#include "mlspeed/results/printers.h"

#include <ostream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mlspeed/results/fields.h"
#include "mlspeed/results/markdown_printer.h"

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
      if (u > static_cast<uint64_t>(INT64_MAX)) throw std::invalid_argument(j.dump() + " is too large");
      return static_cast<int64_t>(u);
    }
    case Json::value_t::number_float: return j.get<double>();
    case Json::value_t::string: return j.get<std::string>();
    case Json::value_t::array: {
      std::vector<double> xs;
      for (const Json& x : j) {
        if (!x.is_number()) throw std::invalid_argument("expected a list of numbers, found " + x.dump());
        xs.push_back(x.get<double>());
      }
      return xs;
    }
    default: throw std::invalid_argument("unexpected " + j.dump());
  }
}

Json row_to_json(const Result& result) {
  Json row = Json::object();
  for (const Field& f : result_fields()) row[f.name] = to_json_value(f.get(result));
  return row;
}

// Unknown values leave the field at its default (also how old files lacking a field read back).
// Keys no field has are skipped, so output of a newer mlspeed still reads.
Result row_from_json(const Json& row, const std::string& where) {
  if (!row.is_object()) throw std::invalid_argument(where + ": expected an object of fields, found " + row.dump());
  Result result;
  for (const auto& [key, value] : row.items()) {
    const Field* f = find_field(key);
    if (!f) continue;
    try {
      const Value v = from_json_value(value);
      if (!std::holds_alternative<std::monostate>(v)) f->set(result, v);
    } catch (const std::exception& e) {
      throw std::invalid_argument(where + ", field '" + key + "': " + e.what());
    }
  }
  return result;
}

// --- json: one array, a row at a time --------------------------------------------------------

class JsonPrinter : public Printer {
 public:
  explicit JsonPrinter(std::ostream& out) : out_(out) {}
  void header(const RunContext&) override { open(); }
  void row(const Result& result) override {
    open();
    out_ << (rows_++ ? ",\n  " : "\n  ") << row_to_json(result).dump() << std::flush;
  }
  void footer() override {
    open();
    out_ << "\n]\n" << std::flush;
  }

 private:
  // The array opens once, whatever is called first, so the output always parses.
  void open() {
    if (opened_) return;
    out_ << "[";
    opened_ = true;
  }
  std::ostream& out_;
  bool opened_ = false;
  int rows_ = 0;
};

class JsonlPrinter : public Printer {
 public:
  explicit JsonlPrinter(std::ostream& out) : out_(out) {}
  void header(const RunContext&) override {}
  // Flushed per row: a reader following the output sees each row as soon as it is measured.
  void row(const Result& result) override { out_ << row_to_json(result).dump() << "\n" << std::flush; }
  void footer() override { out_ << std::flush; }

 private:
  std::ostream& out_;
};

// --- csv (RFC 4180; lines end in \n, which every CSV reader accepts) ---------------------------

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

class CsvPrinter : public Printer {
 public:
  explicit CsvPrinter(std::ostream& out) : out_(out) {}
  void header(const RunContext&) override {
    std::string line;
    for (const Field& f : result_fields()) line += (line.empty() ? "" : ",") + csv_cell(f.name);
    out_ << line << "\n" << std::flush;
  }
  void row(const Result& result) override {
    std::string line;
    bool first = true;
    for (const Field& f : result_fields()) {
      line += (first ? "" : ",") + csv_cell(value_to_text(f.get(result)));
      first = false;
    }
    out_ << line << "\n" << std::flush;
  }
  void footer() override { out_ << std::flush; }

 private:
  std::ostream& out_;
};

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

std::vector<Result> parse_csv(std::string_view text) {
  const std::vector<CsvRecord> records = split_csv(text);
  if (records.empty()) throw std::invalid_argument("no header line: expected the field names, comma-separated");
  std::vector<const Field*> columns;  // nullptr: a column this version does not know, skipped
  for (const std::string& name : records[0].cells) columns.push_back(find_field(name));
  std::vector<Result> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& record = records[r];
    const std::string where = "line " + std::to_string(record.line);
    if (record.cells.size() != columns.size())
      throw std::invalid_argument(where + ": " + std::to_string(record.cells.size()) + " cells, but the header has " +
                                  std::to_string(columns.size()));
    Result result;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (!columns[c]) continue;
      try {
        const Value v = value_from_text(columns[c]->type, record.cells[c]);
        if (!std::holds_alternative<std::monostate>(v)) columns[c]->set(result, v);
      } catch (const std::exception& e) {
        throw std::invalid_argument(where + ", field '" + columns[c]->name + "': " + e.what());
      }
    }
    rows.push_back(std::move(result));
  }
  return rows;
}

Json parse_json_text(std::string_view text, const std::string& where) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw std::invalid_argument(where + ": not valid JSON (" + e.what() + ")");
  }
}

std::vector<Result> parse_json_array(std::string_view text) {
  const Json array = parse_json_text(text, "json");
  if (!array.is_array()) throw std::invalid_argument(std::string("json: expected an array of rows, found ") + array.type_name());
  std::vector<Result> rows;
  for (size_t i = 0; i < array.size(); ++i) rows.push_back(row_from_json(array[i], "json row " + std::to_string(i + 1)));
  return rows;
}

std::vector<Result> parse_jsonl(std::string_view text) {
  std::vector<Result> rows;
  size_t start = 0;
  for (int line = 1; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view content = text.substr(start, end - start);
    start = end + 1;
    if (content.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = "line " + std::to_string(line);
    rows.push_back(row_from_json(parse_json_text(content, where), where));
  }
  return rows;
}

}  // namespace

std::optional<Format> parse_format(std::string_view text) {
  for (const auto& f : kFormats)
    if (text == f.name) return f.format;
  return std::nullopt;
}

std::vector<std::string> format_names() {
  std::vector<std::string> names;
  for (const auto& f : kFormats) names.emplace_back(f.name);
  return names;
}

std::unique_ptr<Printer> make_printer(Format format, std::ostream& out) {
  switch (format) {
    case Format::md: return make_markdown_printer(out);
    case Format::json: return std::make_unique<JsonPrinter>(out);
    case Format::jsonl: return std::make_unique<JsonlPrinter>(out);
    case Format::csv: return std::make_unique<CsvPrinter>(out);
  }
  throw std::logic_error("make_printer: unhandled format");
}

std::vector<Result> parse_results(Format format, std::string_view text) {
  switch (format) {
    case Format::json: return parse_json_array(text);
    case Format::jsonl: return parse_jsonl(text);
    case Format::csv: return parse_csv(text);
    case Format::md: break;
  }
  throw std::invalid_argument("the md format is for people and cannot be read back; use json, jsonl or csv");
}

}  // namespace mlspeed
