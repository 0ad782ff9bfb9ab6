// Speed results in every output format, through the RowPrinter interface of row_printer.h. All of
// them print the fields of fields.h.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mlspeed/results/context.h"
#include "mlspeed/results/formats.h"
#include "mlspeed/results/result.h"
#include "mlspeed/results/row_printer.h"

namespace mlspeed {

using Printer = RowPrinter<Result>;

// The md table's columns. narrow: the same eight for every run, within 120 characters (workload,
// device, dtype, test label, median ms ± sd, throughput, MFU, noise). wide (`--wide`): every column
// that carries information for the rows.
enum class TableWidth { narrow, wide };

// md: the context block, then one table at the footer (failures explained underneath). json: an
// array of row objects. jsonl: one object per line. csv: RFC 4180 with a header line. The machine
// formats stream each row as it arrives; `width` concerns md only.
std::unique_ptr<Printer> make_printer(Format format, std::ostream& out, TableWidth width = TableWidth::narrow);

// Reads json, jsonl or csv output back into rows (md is for people and cannot be read back).
// Throws std::invalid_argument naming the line or field that does not parse.
std::vector<Result> parse_results(Format format, std::string_view text);

}  // namespace mlspeed
