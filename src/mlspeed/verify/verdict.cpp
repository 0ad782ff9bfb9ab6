#include "mlspeed/verify/verdict.h"

#include <algorithm>
#include <ostream>
#include <utility>

#include "mlspeed/core/text.h"
#include "mlspeed/verify/known_issues.h"

namespace mlspeed::verify {
namespace {

std::string checks_count(int64_t n) { return std::to_string(n) + (n == 1 ? " check" : " checks"); }

// "cuda:0: 1234 checks: 1200 passed, 3 failed, 2 not tested on the device, 29 skipped"; errors
// and non-reproducible checks only when there are any.
std::string counts_line(const DeviceVerdict& v) {
  std::string line = v.device + ": " + checks_count(v.run) + ": " + std::to_string(v.passed) + " passed, " +
                     std::to_string(v.failed) + " failed, " + std::to_string(v.not_tested) +
                     " not tested on the device, " + std::to_string(v.skipped) + " skipped";
  if (v.errors) line += ", " + std::to_string(v.errors) + (v.errors == 1 ? " error" : " errors");
  if (v.known) line += ", " + std::to_string(v.known) + " known LibTorch " + (v.known == 1 ? "issue" : "issues");
  if (v.not_reproducible)
    line += "; " + checks_count(v.not_reproducible) + " not reproducible (two runs differed bitwise)";
  return line;
}

// What the not-tested rows say: the op and LibTorch's fallback warning, one line per op and
// warning (the same fallback usually repeats across every layout and dtype of an op).
std::vector<std::string> not_tested_lines(const std::vector<CheckResult>& rows) {
  std::vector<std::pair<std::string, int64_t>> groups;  // in first-seen order
  for (const CheckResult& row : rows) {
    const std::string warning = one_line(row.fallback.empty() ? row.message : row.fallback);
    const std::string key = row.check + ": " + (warning.empty() ? "no warning recorded" : warning);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) groups.emplace_back(key, 1);
    else ++it->second;
  }
  std::vector<std::string> lines;
  for (const auto& [key, n] : groups) lines.push_back(key + (n > 1 ? " (" + checks_count(n) + ")" : ""));
  return lines;
}

// The failures, one line per op (or model) and pass: a broken kernel fails in every dtype, layout
// and shape, and a hundred lines saying so hide the one other failure. A group of one reads as
// the check itself; a larger group says what it covered and shows its first message.
std::vector<std::string> failure_lines(const std::vector<CheckResult>& failures) {
  std::vector<std::vector<const CheckResult*>> groups;  // in first-seen order
  for (const CheckResult& row : failures) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
      const CheckResult& first = *g.front();
      return first.outcome == row.outcome && first.check == row.check && first.pass == row.pass;
    });
    if (it == groups.end()) groups.push_back({&row});
    else it->push_back(&row);
  }
  std::vector<std::string> lines;
  for (const auto& group : groups) {
    const CheckResult& first = *group.front();
    const std::string prefix = first.outcome == Outcome::error ? "error: " : "";
    if (group.size() == 1) {
      lines.push_back(prefix + one_line(describe(first)));
      continue;
    }
    std::vector<std::string> what;
    for (const auto& [member, noun] : {std::pair{&CheckResult::dtype, "dtypes"}, {&CheckResult::layout, "layouts"},
                                       {&CheckResult::shape, "shapes"}}) {
      const std::string values = covered(group, member, noun);
      if (!values.empty()) what.push_back(values);
    }
    const std::string verb = first.outcome == Outcome::error ? " errors" : " checks failed";
    lines.push_back(prefix + first.check + (first.pass.empty() ? "" : " " + first.pass) + " on " + first.device +
                    ": " + std::to_string(group.size()) + verb + (what.empty() ? "" : " (" + join(what, "; ") + ")") +
                    "; the first: " + one_line(describe(first)));
  }
  return lines;
}

// "1.13" of "1.13.0", "2.11" of "2.11.0+cu130": the release a known issue belongs to.
std::string major_minor_text(const std::string& version) {
  const auto first = version.find('.');
  if (first == std::string::npos) return version;
  const auto second = version.find_first_not_of("0123456789", first + 1);
  return version.substr(0, second);
}

void tally(std::vector<std::pair<std::string, int64_t>>& counts, const std::string& key) {
  auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == key; });
  if (it == counts.end()) counts.emplace_back(key, 1);
  else ++it->second;
}

// Known issues of this LibTorch whose checks ran and never failed as the entry describes.
std::vector<std::pair<std::string, int64_t>> not_reproduced(const std::vector<CheckResult>& rows,
                                                            const DeviceVerdict& v) {
  std::vector<std::pair<std::string, int64_t>> quiet;
  for (const KnownIssue& issue : known_issues()) {
    bool reproduced = false;
    int64_t in_scope = 0;
    for (const CheckResult& row : rows) {
      if (row.device != v.device || !applies(issue, row.host.torch_version, row.device_facts.kind)) continue;
      if (row.known_issue == issue.id) reproduced = true;
      else if (row.outcome == Outcome::pass && issue.in_scope(row)) ++in_scope;
    }
    if (!reproduced && in_scope > 0) quiet.emplace_back(issue.id, in_scope);
  }
  return quiet;
}

// Each known issue once, with its count and upstream report; and those that did not reproduce.
void print_known_issues(std::ostream& out, const DeviceVerdict& v) {
  if (!v.known_issues.empty()) {
    out << "\nKnown LibTorch issues on " << v.device << " (LibTorch " << v.torch_version
        << "; real, reported upstream, not counted against this machine unless --strict):\n";
    for (const auto& [id, n] : v.known_issues) {
      const KnownIssue* issue = find_known_issue(id);
      out << "- " << (issue ? issue->summary + " (" + checks_count(n) + "); " + issue->reference
                            : id + " (" + checks_count(n) + ")")
          << "\n";
    }
  }
  for (const auto& [id, n] : v.not_reproduced) {
    const KnownIssue* issue = find_known_issue(id);
    if (!issue) continue;
    out << "\nDid not reproduce on " << v.device << ": " << issue->summary << " (known for " << versions(*issue)
        << "); its " << checks_count(n) << " passed on LibTorch " << v.torch_version
        << ". Fixed here, or the table of known issues is wrong.\n";
  }
}

// "0 unexpected failures; 2 known LibTorch 1.13 issues (26 checks)": what the verdict line adds.
std::string verdict_summary(const std::vector<DeviceVerdict>& verdicts, bool strict) {
  int64_t unexpected = 0, known_checks = 0, known_kinds = 0;
  std::string versions_seen;
  for (const DeviceVerdict& v : verdicts) {
    unexpected += v.failed + v.errors;
    known_checks += v.known;
    known_kinds += static_cast<int64_t>(v.known_issues.size());
    const std::string version = major_minor_text(v.torch_version);
    if (v.known && versions_seen.find(version) == std::string::npos)
      versions_seen += (versions_seen.empty() ? "" : "/") + version;
  }
  std::string summary = std::to_string(unexpected) + " unexpected " + (unexpected == 1 ? "failure" : "failures");
  if (known_checks)
    summary += "; " + std::to_string(known_kinds) + " known LibTorch " + versions_seen + " " +
               (known_kinds == 1 ? "issue" : "issues") + " (" + checks_count(known_checks) + ")" +
               (strict ? ", failing under --strict" : "");
  return summary;
}

}  // namespace

std::vector<DeviceVerdict> summarise(const std::vector<CheckResult>& rows) {
  std::vector<DeviceVerdict> verdicts;  // devices in first-seen order
  std::vector<std::vector<std::pair<std::string, int64_t>>> skips;  // per device: reason, count
  for (const CheckResult& row : rows) {
    auto it = std::find_if(verdicts.begin(), verdicts.end(), [&](const auto& v) { return v.device == row.device; });
    if (it == verdicts.end()) {
      verdicts.push_back(DeviceVerdict{});
      verdicts.back().device = row.device;
      verdicts.back().torch_version = row.host.torch_version;
      skips.emplace_back();
      it = verdicts.end() - 1;
    }
    DeviceVerdict& v = *it;
    ++v.run;
    switch (row.outcome) {
      case Outcome::pass: ++v.passed; break;
      case Outcome::fail:
        ++v.failed;
        v.failures.push_back(row);
        break;
      case Outcome::error:
        ++v.errors;
        v.failures.push_back(row);
        break;
      case Outcome::known_issue:
        ++v.known;
        tally(v.known_issues, row.known_issue);
        break;
      case Outcome::not_tested:
        ++v.not_tested;
        v.not_tested_rows.push_back(row);
        break;
      case Outcome::skipped: {
        ++v.skipped;
        const std::string reason = row.message.empty() ? "no reason given" : one_line(row.message);
        auto& reasons = skips[static_cast<size_t>(it - verdicts.begin())];
        auto r = std::find_if(reasons.begin(), reasons.end(), [&](const auto& g) { return g.first == reason; });
        if (r == reasons.end()) reasons.emplace_back(reason, 1);
        else ++r->second;
        break;
      }
    }
    if ((row.outcome == Outcome::pass || row.outcome == Outcome::fail) && row.reproducible && !*row.reproducible)
      ++v.not_reproducible;
  }
  for (size_t i = 0; i < verdicts.size(); ++i) {
    for (const auto& [reason, n] : skips[i]) verdicts[i].skip_reasons.push_back(reason + " (" + checks_count(n) + ")");
    verdicts[i].not_reproduced = not_reproduced(rows, verdicts[i]);
  }
  return verdicts;
}

void print_verdict(std::ostream& out, const std::vector<DeviceVerdict>& verdicts, bool complete, bool strict) {
  out << "## Verdict\n\n";
  if (verdicts.empty()) {
    out << "No checks ran: nothing was verified.\n" << std::flush;
    return;
  }
  for (const DeviceVerdict& v : verdicts) out << "- " << counts_line(v) << "\n";
  for (const DeviceVerdict& v : verdicts) {
    if (!v.failures.empty()) {
      out << "\nFailed on " << v.device << ":\n";
      for (const std::string& line : failure_lines(v.failures)) out << "- " << line << "\n";
    }
    print_known_issues(out, v);
    if (!v.not_tested_rows.empty()) {
      out << "\nNot tested on " << v.device << " (LibTorch ran these on the CPU instead):\n";
      for (const std::string& line : not_tested_lines(v.not_tested_rows)) out << "- " << line << "\n";
    }
    if (!v.skip_reasons.empty()) {
      out << "\nSkipped on " << v.device << ":\n";
      for (const std::string& reason : v.skip_reasons) out << "- " << reason << "\n";
    }
  }
  const bool ok = std::all_of(verdicts.begin(), verdicts.end(), [&](const DeviceVerdict& v) { return v.ok(strict); });
  const std::string summary = verdict_summary(verdicts, strict);
  if (complete) out << "\nVERDICT: " << (ok ? "PASS" : "FAIL") << " - " << summary << "\n" << std::flush;
  else
    out << "\nVERDICT: INCOMPLETE, " << (ok ? "PASS" : "FAIL") << " so far - " << summary
        << " (interrupted: the checks that did not run are not covered)\n"
        << std::flush;
}

}  // namespace mlspeed::verify
