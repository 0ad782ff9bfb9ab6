#include "mlspeed/io/weights.h"

#include <torch/nn/module.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

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

// Where a module tensor's values come from: a tensor of one of the files.
struct WeightSource {
  size_t file = 0;
  const safetensors::TensorInfo* info = nullptr;
};

std::string files_text(const std::vector<std::unique_ptr<safetensors::File>>& files) {
  if (files.size() == 1) return files[0]->path() + " does not fit this model";
  return files[0]->path() + " and " + std::to_string(files.size() - 1) + " more file" + (files.size() > 2 ? "s" : "") +
         " do not fit this model";
}

// load_weights over one or more files, `hint` ending the message of a misfit.
void load_from_files(torch::nn::Module& module, const std::vector<std::string>& paths, const WeightsOptions& options,
                     const std::string& hint, const std::function<void(int64_t, int64_t)>& progress) {
  if (paths.empty()) throw std::invalid_argument("load_weights: no files");
  std::vector<std::unique_ptr<safetensors::File>> files;
  for (const std::string& path : paths) files.push_back(std::make_unique<safetensors::File>(path));
  const std::map<std::string, at::Tensor> targets = module_tensors(module);

  // Which checkpoint tensor feeds each module tensor. A name given directly wins over an alias.
  std::map<std::string, WeightSource> source;
  std::vector<std::string> unexpected, mismatched, repeated;
  std::vector<std::pair<std::string, WeightSource>> aliased;
  size_t file_tensors = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    file_tensors += files[f]->tensors().size();
    for (const auto& info : files[f]->tensors()) {
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
        aliased.emplace_back(alias->second, WeightSource{f, &info});
      } else if (!targets.count(name)) {
        unexpected.push_back(printable(raw) + " " + shape_text(info.shape));
      } else if (auto [it, added] = source.emplace(name, WeightSource{f, &info}); !added) {
        repeated.push_back(name + ": " + printable(it->second.info->name) + " in " + files[it->second.file]->path() +
                           " and " + printable(raw) + " in " + files[f]->path());
      }
    }
  }
  const auto sizes = [&](const WeightSource& s) { return c10::IntArrayRef(s.info->shape); };
  for (const auto& [target, from] : aliased) {
    if (!targets.count(target))
      unexpected.push_back(printable(from.info->name) + " (alias of " + target + ", not in the model)");
    else if (!source.count(target)) source[target] = from;
    else if (sizes(from) != sizes(source[target]))
      mismatched.push_back(from.info->name + ": " + shape_text(from.info->shape) + " in the file, but it is tied to " +
                           target + " " + shape_text(source[target].info->shape));
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
    } else if (sizes(it->second) != tensor.sizes()) {
      mismatched.push_back(name + ": " + shape_text(it->second.info->shape) + " in the file (" + it->second.info->name +
                           "), " + shape_text(tensor.sizes()) + " in the model");
    }
  }

  if (!missing.empty() || !unexpected.empty() || !mismatched.empty() || !repeated.empty()) {
    std::string message = files_text(files) + " (" + std::to_string(targets.size()) + " tensors; the file" +
                          (files.size() > 1 ? "s have " : " has ") + std::to_string(file_tensors) + "):";
    const std::string from = files.size() > 1 ? "the files" : "the file";
    if (!missing.empty())
      message += "\n  " + std::to_string(missing.size()) + " missing from " + from + ":\n" + list_names(missing);
    if (!repeated.empty())
      message += "\n  " + std::to_string(repeated.size()) + " in two files:\n" + list_names(repeated);
    if (!mismatched.empty())
      message += "\n  " + std::to_string(mismatched.size()) + " with the wrong shape:\n" + list_names(mismatched);
    if (!unexpected.empty())
      message += "\n  " + std::to_string(unexpected.size()) + " in " + from + " but not in the model:\n" +
                 list_names(unexpected);
    message += hint;
    throw InputFileError(message);
  }

  at::NoGradGuard no_grad;
  int64_t done = 0;
  for (const auto& [name, from] : source) {
    at::Tensor target = targets.at(name);
    target.copy_(files[from.file]->tensor(from.info->name));  // converts dtype and device
    if (progress) progress(++done, int64_t(source.size()));
  }
}

}  // namespace

void load_weights(torch::nn::Module& module, const std::string& path, const WeightsOptions& options) {
  load_from_files(module, {path}, options,
                  "\n  (was the file saved from another model or size? see `mlspeed workloads` for the names)", {});
}

void load_weights(torch::nn::Module& module, const std::vector<std::string>& paths, const WeightsOptions& options,
                  const std::function<void(int64_t, int64_t)>& progress) {
  load_from_files(module, paths, options, "", progress);
}

void save_weights(const torch::nn::Module& module, const std::string& path) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : module_tensors(module)) tensors.emplace_back(name, tensor);
  safetensors::save(path, tensors, {{"format", "pt"}, {"written_by", "mlspeed"}});
}

}  // namespace mlspeed
