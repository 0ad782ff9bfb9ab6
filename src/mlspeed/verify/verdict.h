// The verdict per device: checks run, passed, failed, not tested on the device (CPU fallback),
// skipped (with reasons), and each failure in a sentence a user understands.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "mlspeed/verify/check.h"

namespace mlspeed::verify {

struct DeviceVerdict {
  std::string device;
  std::string torch_version;  // the LibTorch the checks ran on (known issues are per version)
  int64_t run = 0, passed = 0, failed = 0, not_tested = 0, skipped = 0, errors = 0, known = 0;
  int64_t not_reproducible = 0;                // passed or failed, but two runs differed bitwise
  std::vector<CheckResult> failures;           // fail and error rows
  std::vector<CheckResult> not_tested_rows;
  std::vector<std::string> skip_reasons;       // distinct reasons, with how many checks each
  std::vector<std::pair<std::string, int64_t>> known_issues;  // known_issues.h ids, with their checks
  // Known issues listed for this LibTorch and device whose checks ran and all passed, with how
  // many: the bug did not reproduce.
  std::vector<std::pair<std::string, int64_t>> not_reproduced;
  // Known issues fail the verdict only when `strict`.
  bool ok(bool strict = false) const { return failed == 0 && errors == 0 && (!strict || known == 0); }
};

std::vector<DeviceVerdict> summarise(const std::vector<CheckResult>& rows);

// Markdown: one line of counts per device, then each failure ("mm on cuda:0, float32, 4096x4096
// transposed: 3.1% of elements off by up to 0.42"), what was not tested and why checks were skipped.
// `complete` false (the run was interrupted): the last line says the verdict covers the checks
// that ran only ("VERDICT: INCOMPLETE, PASS so far ...").
// The last line reads "VERDICT: PASS - 0 unexpected failures; 2 known LibTorch 1.13 issues (26
// checks)"; with `strict`, known issues make it FAIL.
void print_verdict(std::ostream& out, const std::vector<DeviceVerdict>& verdicts, bool complete = true,
                   bool strict = false);

}  // namespace mlspeed::verify
