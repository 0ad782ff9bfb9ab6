#include "mlspeed/io/weights.h"

#include <torch/nn/module.h>

#include <algorithm>
#include <map>
#include <set>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/io/safetensors.h"

namespace mlspeed {
namespace {

bool has_prefix(const std::string& s, const std::string& prefix) {
  return !prefix.empty() && s.compare(0, prefix.size(), prefix) == 0;
}
bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Every parameter and buffer by its dotted name, as the checkpoint names them.
std::map<std::string, at::Tensor> module_tensors(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> tensors;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) tensors.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) tensors.emplace(b.key(), b.value());
  return tensors;
}

std::string shape_text(c10::IntArrayRef shape) { return c10::str(shape); }

// "a, b, c and 12 more"
std::string list_names(const std::vector<std::string>& names) {
  constexpr size_t kShown = 25;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kShown; ++i) out += (i ? "\n    " : "    ") + names[i];
  if (names.size() > kShown) out += "\n    ... and " + std::to_string(names.size() - kShown) + " more";
  return out;
}

}  // namespace

void load_weights(torch::nn::Module& module, const std::string& path, const WeightsOptions& options) {
  const safetensors::File file(path);
  const std::map<std::string, at::Tensor> targets = module_tensors(module);

  // Which checkpoint tensor feeds each module tensor. A name given directly wins over an alias.
  std::map<std::string, const safetensors::TensorInfo*> source;
  std::vector<std::string> unexpected, mismatched;
  std::vector<std::pair<std::string, const safetensors::TensorInfo*>> aliased;
  for (const auto& info : file.tensors()) {
    const std::string& raw = info.name;
    const bool ignored =
        std::any_of(options.ignore_suffixes.begin(), options.ignore_suffixes.end(),
                    [&](const std::string& s) { return has_suffix(raw, s); }) ||
        std::any_of(options.ignore_prefixes.begin(), options.ignore_prefixes.end(),
                    [&](const std::string& p) { return has_prefix(raw, p); });
    if (ignored) continue;
    const std::string name = has_prefix(raw, options.strip_prefix) ? raw.substr(options.strip_prefix.size()) : raw;
    auto alias = std::find_if(options.aliases.begin(), options.aliases.end(),
                              [&](const auto& a) { return a.first == name; });
    if (alias != options.aliases.end()) {
      aliased.emplace_back(alias->second, &info);
    } else if (targets.count(name)) {
      source[name] = &info;
    } else {
      unexpected.push_back(printable(raw) + " " + shape_text(info.shape));
    }
  }
  for (const auto& [target, info] : aliased) {
    if (!targets.count(target))
      unexpected.push_back(printable(info->name) + " (alias of " + target + ", not in the model)");
    else if (!source.count(target)) source[target] = info;
    else if (file.tensor(info->name).sizes() != file.tensor(source[target]->name).sizes())
      mismatched.push_back(info->name + ": " + shape_text(info->shape) + " in the file, but it is tied to " + target +
                           " " + shape_text(source[target]->shape));
  }

  std::vector<std::string> missing;
  for (const auto& [name, tensor] : targets) {
    auto it = source.find(name);
    const bool optional = std::any_of(options.optional_suffixes.begin(), options.optional_suffixes.end(),
                                      [&](const std::string& s) { return has_suffix(name, s); });
    if (it == source.end() && optional) {
      continue;
    } else if (it == source.end()) {
      missing.push_back(name + " " + shape_text(tensor.sizes()));
    } else if (c10::IntArrayRef(it->second->shape) != tensor.sizes()) {
      mismatched.push_back(name + ": " + shape_text(it->second->shape) + " in the file (" + it->second->name +
                           "), " + shape_text(tensor.sizes()) + " in the model");
    }
  }

  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string message = path + " does not fit this model (" + std::to_string(targets.size()) +
                          " tensors; the file has " + std::to_string(file.tensors().size()) + "):";
    if (!missing.empty())
      message += "\n  " + std::to_string(missing.size()) + " missing from the file:\n" + list_names(missing);
    if (!mismatched.empty())
      message += "\n  " + std::to_string(mismatched.size()) + " with the wrong shape:\n" + list_names(mismatched);
    if (!unexpected.empty())
      message += "\n  " + std::to_string(unexpected.size()) + " in the file but not in the model:\n" +
                 list_names(unexpected);
    message += "\n  (was the file saved from another model or size? see `mlspeed workloads` for the names)";
    throw InputFileError(message);
  }

  at::NoGradGuard no_grad;
  for (const auto& [name, info] : source) {
    at::Tensor target = targets.at(name);
    target.copy_(file.tensor(info->name));  // converts dtype and device
  }
}

void save_weights(const torch::nn::Module& module, const std::string& path) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : module_tensors(module)) tensors.emplace_back(name, tensor);
  safetensors::save(path, tensors, {{"format", "pt"}, {"written_by", "mlspeed"}});
}

}  // namespace mlspeed
