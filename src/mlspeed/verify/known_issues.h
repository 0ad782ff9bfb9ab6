// Bugs of LibTorch itself that verify finds on a healthy machine, each with its upstream report.
// A check that fails the way an entry describes, on a LibTorch the entry lists, is outcome
// known-issue: still shown, with the report, but not counted against the machine (unless
// `verify --strict`). An entry whose checks all pass on a listed LibTorch is reported as not
// reproduced: fixed, or the table is wrong.
#pragma once

#include <string>
#include <vector>

#include "mlspeed/verify/check.h"

namespace mlspeed::verify {

struct KnownIssue {
  std::string id;         // "bf16-conv-transpose-cpu"
  std::string summary;    // what goes wrong, in one line
  std::string reference;  // the upstream report
  std::string device_kind;                // "cpu", "cuda", "mps"
  int first_major, first_minor;           // LibTorch versions seen affected, inclusive
  int last_major, last_minor;
  bool (*in_scope)(const CheckResult&);   // the checks the bug can affect (by op, dtype, pass)
  bool (*matches)(const CheckResult&);    // an in-scope failure that is this bug (its message)
};

const std::vector<KnownIssue>& known_issues();
const KnownIssue* find_known_issue(const std::string& id);

// Whether the entry covers this LibTorch ("1.13.0", "2.11.0+cu130") and device kind.
bool applies(const KnownIssue& issue, const std::string& torch_version, const std::string& device_kind);

// A fail or error row that is a known issue of the LibTorch and device it ran on becomes
// outcome known_issue with the entry's id; any other row is left alone.
void label_known_issue(CheckResult& row);

// "LibTorch 1.13-2.11": the versions an entry lists.
std::string versions(const KnownIssue& issue);

}  // namespace mlspeed::verify
