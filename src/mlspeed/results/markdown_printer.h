// The md format: for people, not for reading back. Internal to printers.cpp; users go through
// make_printer(Format::md, out).
#pragma once

#include <iosfwd>
#include <memory>

#include "mlspeed/results/printers.h"

namespace mlspeed {

// Prints describe_context() at the header, keeps the rows, and at the footer prints one table
// (printers.h's TableWidth says which columns), then one line per reason rows failed.
std::unique_ptr<Printer> make_markdown_printer(std::ostream& out, TableWidth width);

}  // namespace mlspeed
