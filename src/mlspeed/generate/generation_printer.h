// How a generate run is printed: md for a person (the context, then per generation the ids, the
// text, the times and the warnings), json, jsonl and csv from the field list.
#pragma once

#include <iosfwd>
#include <memory>

#include "mlspeed/generate/generation_row.h"
#include "mlspeed/results/formats.h"
#include "mlspeed/results/row_printer.h"

namespace mlspeed {

std::unique_ptr<RowPrinter<GenerationRow>> make_generation_printer(Format format, std::ostream& out);

}  // namespace mlspeed
