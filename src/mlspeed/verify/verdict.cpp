#include "mlspeed/verify/verdict.h"

#include <algorithm>
#include <ostream>
#include <utility>


namespace mlspeed::verify {
namespace {

std::string checks_count(int64_t n) { return std::to_string(n) + (n == 1 ? " check" : " checks"); }

// A line break inside a message would end its list item.
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

// "cuda:0: 1234 checks: 1200 passed, 3 failed, 2 not tested on the device, 29 skipped"; errors
// and non-reproducible checks only when there are any.
std::string counts_line(const DeviceVerdict& v) {
  std::string line = v.device + ": " + checks_count(v.run) + ": " + std::to_string(v.passed) + " passed, " +
                     std::to_string(v.failed) + " failed, " + std::to_string(v.not_tested) +
                     " not tested on the device, " + std::to_string(v.skipped) + " skipped";
  if (v.errors) line += ", " + std::to_string(v.errors) + (v.errors == 1 ? " error" : " errors");
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

}  // namespace

std::vector<DeviceVerdict> summarise(const std::vector<CheckResult>& rows) {
  std::vector<DeviceVerdict> verdicts;  // devices in first-seen order
  std::vector<std::vector<std::pair<std::string, int64_t>>> skips;  // per device: reason, count
  for (const CheckResult& row : rows) {
    auto it = std::find_if(verdicts.begin(), verdicts.end(), [&](const auto& v) { return v.device == row.device; });
    if (it == verdicts.end()) {
      verdicts.push_back(DeviceVerdict{});
      verdicts.back().device = row.device;
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
  for (size_t i = 0; i < verdicts.size(); ++i)
    for (const auto& [reason, n] : skips[i]) verdicts[i].skip_reasons.push_back(reason + " (" + checks_count(n) + ")");
  return verdicts;
}

void print_verdict(std::ostream& out, const std::vector<DeviceVerdict>& verdicts, bool complete) {
  out << "## Verdict\n\n";
  if (verdicts.empty()) {
    out << "No checks ran: nothing was verified.\n" << std::flush;
    return;
  }
  for (const DeviceVerdict& v : verdicts) out << "- " << counts_line(v) << "\n";
  for (const DeviceVerdict& v : verdicts) {
    if (!v.failures.empty()) {
      out << "\nFailed on " << v.device << ":\n";
      for (const CheckResult& row : v.failures)
        out << "- " << (row.outcome == Outcome::error ? "error: " : "") << one_line(describe(row)) << "\n";
    }
    if (!v.not_tested_rows.empty()) {
      out << "\nNot tested on " << v.device << " (LibTorch ran these on the CPU instead):\n";
      for (const std::string& line : not_tested_lines(v.not_tested_rows)) out << "- " << line << "\n";
    }
    if (!v.skip_reasons.empty()) {
      out << "\nSkipped on " << v.device << ":\n";
      for (const std::string& reason : v.skip_reasons) out << "- " << reason << "\n";
    }
  }
  const bool ok = std::all_of(verdicts.begin(), verdicts.end(), [](const DeviceVerdict& v) { return v.ok(); });
  if (complete) out << "\nVERDICT: " << (ok ? "PASS" : "FAIL") << "\n" << std::flush;
  else
    out << "\nVERDICT: INCOMPLETE, " << (ok ? "PASS" : "FAIL")
        << " so far (interrupted: the checks that did not run are not covered)\n"
        << std::flush;
}

}  // namespace mlspeed::verify
