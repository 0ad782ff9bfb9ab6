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

// Model FLOPs per item for each default shape of the first default batch (FLOPs per item do not
// depend on the batch).
std::vector<std::pair<Shape, double>> flops_at_defaults(const Workload& w, const WorkloadSize& s) {
  std::vector<std::pair<Shape, double>> out;
  for (const Shape& shape : w.shapes(s, ShapeRequest{}))
    if (shape.batch == s.batches.front()) out.emplace_back(shape, w.flops_per_item(s.name, shape));
  return out;
}

// "@512" (a sequence), "tg 128" (generation from an empty context), "@4+16" (a prompt, then
// generated tokens), "" (neither).
std::string shape_cell(const Shape& shape) {
  if (shape.new_tokens > 0 && shape.seq == 0) return " tg " + std::to_string(shape.new_tokens);
  if (shape.new_tokens > 0) return " @" + std::to_string(shape.seq) + "+" + std::to_string(shape.new_tokens);
  return shape.seq > 0 ? " @" + std::to_string(shape.seq) : "";
}

void print_workloads() {
  const std::vector<std::string> head = {"workload", "job", "size", "parameters", "FLOPs per item",
                                         "batch", "seq", "gen", "model"};
  std::vector<std::vector<std::string>> rows;
  for (const Workload* w : workload_catalogue()) {
    for (const auto& s : w->sizes()) {
      std::vector<std::string> flops;
      for (const auto& [shape, f] : flops_at_defaults(*w, s))
        flops.push_back(format_count(f) + "/" + w->item_unit().substr(0, w->item_unit().size() - 1) +
                        shape_cell(shape));
      rows.push_back({w->name(), std::string(name(w->job())), s.name, format_count(static_cast<double>(s.parameters)) +
                      " (" + std::to_string(s.parameters) + ")", join(flops, ", "), list(s.batches),
                      list(s.seqs), list(s.new_tokens), s.summary});
    }
  }
  std::cout << markdown_table(head, {false, false, false, true, true, true, true, true, false}, rows) << "\n";
  for (const Workload* w : workload_catalogue()) {
    std::cout << "- " << w->name() << ": " << w->description() << "\n";
    if (!w->data_format().empty()) std::cout << "  --data: " << w->data_format() << "\n";
  }
}

}  // namespace

int workloads_command(const ListingOptions& options) {
  if (options.format != Format::json) {
    print_workloads();
    return 0;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const Workload* w : workload_catalogue()) {
    nlohmann::json sizes = nlohmann::json::array();
    for (const auto& s : w->sizes()) {
      nlohmann::json flops = nlohmann::json::array();
      for (const auto& [shape, f] : flops_at_defaults(*w, s))
        flops.push_back({{"seq_len", shape.seq}, {"new_tokens", shape.new_tokens}, {"flops_per_item", f}});
      sizes.push_back({{"name", s.name}, {"summary", s.summary}, {"parameters", s.parameters},
                       {"batches", s.batches}, {"seq_lens", s.seqs}, {"new_tokens", s.new_tokens},
                       {"max_seq_len", s.max_seq}, {"flops", flops}});
    }
    out.push_back({{"name", w->name()}, {"job", std::string(name(w->job()))}, {"item_unit", w->item_unit()},
                   {"description", w->description()}, {"steps_per_job", w->steps_per_job()},
                   {"data_format", w->data_format()}, {"sizes", sizes}});
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace mlspeed::cli
