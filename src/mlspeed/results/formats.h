// The output formats, and the machine formats (json, jsonl, csv) for any list of fields: written
// a row at a time as rows arrive, and read back. Speed results (printers.h) and verification
// checks (verify/check_printers.h) both print through here, so the formats cannot drift apart.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlspeed/results/field_list.h"

namespace mlspeed {

enum class Format { md, json, jsonl, csv };
std::optional<Format> parse_format(std::string_view text);
std::vector<std::string> format_names();  // md, json, jsonl, csv
std::string name(Format format);

// json: one array of row objects, keys in field order. jsonl: one object per line. csv: RFC 4180
// with a header line of field names. Unknown values are JSON null / an empty cell. Every row is
// flushed as it is written, so a reader following the output sees it at once.
class RowWriter {
 public:
  // `format` must be a machine format (std::invalid_argument for md).
  RowWriter(Format format, std::ostream& out, std::vector<std::string> names);
  void begin();                                 // csv: the header line; json: opens the array
  void write(const std::vector<Value>& values);  // one per name, in the same order
  // Always call it, also after an interruption, so JSON output stays well-formed.
  void end();

 private:
  void open_array();
  Format format_;
  std::ostream& out_;
  std::vector<std::string> names_;
  bool opened_ = false;
  int rows_ = 0;
};

template <class Row>
RowWriter make_row_writer(Format format, std::ostream& out, const std::vector<BasicField<Row>>& fields) {
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name);
  return RowWriter(format, out, std::move(names));
}

// One row read back: the index (into the names given) and value of every field it knows with a
// known value; `where` names the row for messages ("line 3", "json row 2").
struct ReadRow {
  std::string where;
  std::vector<std::pair<size_t, Value>> values;
};

// Reads json, jsonl or csv text. Keys or columns not in `names` are skipped (output of a newer
// mlspeed still reads); fields missing or unknown are left out (they keep their defaults). Throws
// std::invalid_argument naming the line or field that does not parse, and for md.
std::vector<ReadRow> read_rows(Format format, std::string_view text, const std::vector<std::string>& names,
                               const std::vector<FieldType>& types);

// read_rows() with the names and types of a field list.
template <class Row>
std::vector<ReadRow> read_rows(Format format, std::string_view text, const std::vector<BasicField<Row>>& fields) {
  std::vector<std::string> names;
  std::vector<FieldType> types;
  for (const auto& f : fields) {
    names.push_back(f.name);
    types.push_back(f.type);
  }
  return read_rows(format, text, names, types);
}

// One row read by read_rows() with the same field list, as a row of its type.
template <class Row> Row row_from(const ReadRow& read, const std::vector<BasicField<Row>>& fields) {
  Row row;
  for (const auto& [index, value] : read.values) {
    try {
      fields[index].set(row, value);
    } catch (const std::exception& e) {
      throw std::invalid_argument(read.where + ", field '" + fields[index].name + "': " + e.what());
    }
  }
  return row;
}

// read_rows() into rows of the field list's type.
template <class Row>
std::vector<Row> parse_rows(Format format, std::string_view text, const std::vector<BasicField<Row>>& fields) {
  std::vector<Row> rows;
  for (const ReadRow& read : read_rows(format, text, fields)) rows.push_back(row_from(read, fields));
  return rows;
}

}  // namespace mlspeed
