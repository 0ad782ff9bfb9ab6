// Verification checks in every output format, through the RowPrinter interface of
// results/row_printer.h (header with the run's context, one call per check as it completes,
// footer). md is for people: the context at the header, then nothing until the footer, which
// prints a compact table of the checks, then the verdict (print_verdict of verdict.h). json (an
// array), jsonl (an object per line) and csv (RFC 4180 with a header line) stream each check as it
// arrives, every field of check_fields(), and carry no verdict: it follows from the rows, and the
// exit status says it.
#pragma once

#include <iosfwd>
#include <memory>
#include <string_view>
#include <vector>

#include "mlspeed/results/formats.h"
#include "mlspeed/results/row_printer.h"
#include "mlspeed/verify/check.h"

namespace mlspeed::verify {

// footer(complete): whether every planned check ran (false after Ctrl-C): md's verdict says so.
using CheckPrinter = RowPrinter<CheckResult>;

// `strict`: the md verdict counts known LibTorch issues as failures (verify --strict).
std::unique_ptr<CheckPrinter> make_check_printer(Format format, std::ostream& out, bool strict = false);

// The md table alone (no verdict): every failed, error and not-tested check on its own line with
// its message; passing and skipped checks summed up in one line per device, check, pass and
// outcome (there may be thousands), with the dtypes, layouts, variants and shapes they covered.
std::string checks_table(const std::vector<CheckResult>& checks);

// Reads json, jsonl or csv output back into checks (md is for people and cannot be read back).
// Throws std::invalid_argument naming the line or field that does not parse.
std::vector<CheckResult> parse_checks(Format format, std::string_view text);

}  // namespace mlspeed::verify
