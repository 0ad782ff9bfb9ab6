#include "mlspeed/compare/context_differences.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "mlspeed/compare/match_key.h"
#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

// A fact of a run as text; empty when the run does not record it.
using Fact = std::function<std::string(const LoadedRun&)>;


// TF32 as the rows ran it: the process default, or any row that switched it on.
std::string tf32(const LoadedRun& run) {
  const bool any_row = std::any_of(run.rows<Result>().begin(), run.rows<Result>().end(), [](const Result& r) { return r.tf32; });
  return on_off(run.run.context.tf32_default || any_row);
}

// Device names per kind, "cuda: NVIDIA H100 80GB HBM3, NVIDIA H200", from the context or the rows.
std::map<std::string, std::string> device_names(const LoadedRun& run) {
  std::map<std::string, std::set<std::string>> names;
  // The kind from the device id: stored rows may not carry DeviceFacts::kind.
  for (const DeviceFacts& d : run.run.context.devices)
    if (!d.name.empty()) names[device_kind(d.id.empty() ? d.kind : d.id)].insert(d.name);
  for (const Result& r : run.rows<Result>())
    if (!r.device_facts.name.empty()) names[device_kind(r.device)].insert(r.device_facts.name);
  std::map<std::string, std::string> joined;
  for (const auto& [kind, set] : names) joined[kind] = join({set.begin(), set.end()}, ", ");
  return joined;
}

const std::vector<std::pair<std::string, Fact>>& compared_facts() {
  static const std::vector<std::pair<std::string, Fact>> list = {
      {"LibTorch", [](const LoadedRun& r) { return r.run.context.host.torch_version; }},
      {"CUDA", [](const LoadedRun& r) { return r.run.context.host.cuda_version; }},
      {"cuDNN", [](const LoadedRun& r) { return r.run.context.host.cudnn_version; }},
      {"BLAS", [](const LoadedRun& r) { return r.run.context.host.blas; }},
      {"build type", [](const LoadedRun& r) { return r.run.context.host.build_type; }},
      {"TF32", [](const LoadedRun& r) { return r.published() ? std::string() : tf32(r); }},
      {"deterministic mode",
       [](const LoadedRun& r) { return r.published() ? std::string() : on_off(r.run.context.deterministic); }},
      {"LibTorch threads",
       [](const LoadedRun& r) {
         const int threads = r.run.context.host.torch_threads;
         return threads > 0 ? std::to_string(threads) : std::string();
       }},
      {"CUDA graphs",
       [](const LoadedRun& r) { return r.run.context.graphs ? on_off(*r.run.context.graphs) : std::string(); }},
      {"mlspeed", [](const LoadedRun& r) { return r.run.context.host.mlspeed_version; }},
  };
  return list;
}

// "Debug (unoptimised)" or a sanitised build: its own overhead is in its timings.
std::vector<std::string> build_warnings(const LoadedRun& run) {
  std::vector<std::string> warnings;
  const HostFacts& host = run.run.context.host;
  if (host.build_type == "Debug" || host.build_type.find("unoptimised") != std::string::npos)
    warnings.push_back(run.name + " was timed by a " + host.build_type +
                       " build of mlspeed: its own overhead is in the timings");
  if (host.sanitized) warnings.push_back(run.name + " was timed by a sanitised build: much slower than the hardware");
  return warnings;
}

}  // namespace

std::vector<std::string> context_differences(const std::vector<LoadedRun>& runs) {
  std::vector<std::string> lines;
  if (runs.empty()) return lines;
  const LoadedRun& base = runs.front();
  for (size_t i = 1; i < runs.size(); ++i) {
    const LoadedRun& other = runs[i];
    for (const auto& [what, fact] : compared_facts()) {
      const std::string a = fact(base), b = fact(other);
      if (!a.empty() && !b.empty() && a != b)
        lines.push_back(what + ": " + a + " (" + base.name + ") vs " + b + " (" + other.name + ")");
    }
    const auto base_names = device_names(base), other_names = device_names(other);
    for (const auto& [kind, names] : other_names) {
      const auto it = base_names.find(kind);
      if (it != base_names.end() && it->second != names)
        lines.push_back(kind + " devices: " + it->second + " (" + base.name + ") vs " + names + " (" + other.name +
                        ")");
    }
  }
  for (const LoadedRun& run : runs) {
    for (std::string& warning : build_warnings(run)) lines.push_back(std::move(warning));
    if (run.published())
      lines.push_back(run.name + " holds published figures measured by other code (" + run.citation +
                      "): ratios only, no significance test");
  }
  return lines;
}

}  // namespace mlspeed
