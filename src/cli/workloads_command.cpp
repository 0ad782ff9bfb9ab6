// `mlspeed workloads`: the catalogue, with parameter counts and FLOPs per item.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "mlspeed/core/text.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

std::string list(const std::vector<int64_t>& xs) {
  std::vector<std::string> items;
  for (int64_t x : xs) items.push_back(std::to_string(x));
  return items.empty() ? "-" : join(items, ",");
}

// Model FLOPs per item at each default sequence length (or the only one).
std::vector<std::pair<int64_t, double>> flops_at_defaults(const Workload& w, const WorkloadSize& s) {
  std::vector<std::pair<int64_t, double>> out;
  const std::vector<int64_t> seqs = s.seqs.empty() ? std::vector<int64_t>{0} : s.seqs;
  const int64_t new_tokens = s.new_tokens.empty() ? 0 : s.new_tokens.front();  // generation: the default
  for (int64_t seq : seqs) out.emplace_back(seq, w.flops_per_item(s.name, Shape{s.batches.front(), seq, new_tokens}));
  return out;
}

void print_table() {
  const std::vector<std::string> head = {"workload", "job", "size", "parameters", "FLOPs per item",
                                         "batch", "seq", "model"};
  std::vector<std::vector<std::string>> rows;
  for (const Workload* w : workload_catalogue()) {
    for (const auto& s : w->sizes()) {
      std::vector<std::string> flops;
      for (const auto& [seq, f] : flops_at_defaults(*w, s))
        flops.push_back(format_count(f) + "/" + w->item_unit().substr(0, w->item_unit().size() - 1) +
                        (seq ? " @" + std::to_string(seq) : ""));
      rows.push_back({w->name(), std::string(name(w->job())), s.name, format_count(static_cast<double>(s.parameters)) +
                      " (" + std::to_string(s.parameters) + ")", join(flops, ", "), list(s.batches),
                      list(s.seqs), s.summary});
    }
  }
  std::cout << markdown_table(head, {false, false, false, true, true, true, true, false}, rows);
  for (const Workload* w : workload_catalogue()) std::cout << "\n" << w->name() << ": " << w->description();
  std::cout << "\n";
}

}  // namespace

int workloads_command(bool json) {
  if (!json) {
    print_table();
    return 0;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const Workload* w : workload_catalogue()) {
    nlohmann::json sizes = nlohmann::json::array();
    for (const auto& s : w->sizes()) {
      nlohmann::json flops = nlohmann::json::array();
      for (const auto& [seq, f] : flops_at_defaults(*w, s)) flops.push_back({{"seq_len", seq}, {"flops_per_item", f}});
      sizes.push_back({{"name", s.name}, {"summary", s.summary}, {"parameters", s.parameters},
                       {"batches", s.batches}, {"seq_lens", s.seqs}, {"max_seq_len", s.max_seq},
                       {"flops", flops}});
    }
    out.push_back({{"name", w->name()}, {"job", std::string(name(w->job()))}, {"item_unit", w->item_unit()},
                   {"description", w->description()}, {"sizes", sizes}});
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace mlspeed::cli
