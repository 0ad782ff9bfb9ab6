// `compare`'s output. md, for the terminal: a legend naming the columns (A = the baseline), the
// context differences, then one table per compared column and device kind that fits 120 columns —
// configuration, both medians, the change ("1.42x faster", "0.71x slower", "same (1.02x)"), the
// U test's p-value and the noise flags — and the geometric-mean summary under it. json, jsonl and
// csv: one record per configuration and compared column with every figure (results/formats.h's
// writers), the notes going to `notes` (stderr) so the records stay machine-readable.
#pragma once

#include <iosfwd>

#include "mlspeed/compare/comparison.h"
#include "mlspeed/results/formats.h"

namespace mlspeed {

void print_comparison(const Comparison& comparison, Format format, std::ostream& out, std::ostream& notes);

// The record fields of the machine formats, in order.
const std::vector<std::string>& comparison_field_names();

// "1.42x faster", "0.71x slower", "same (1.02x)", "1.10x, too few samples", "" when not compared.
std::string describe_change(const Change& change);

}  // namespace mlspeed
