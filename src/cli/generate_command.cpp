// `mlspeed generate`: greedy generation from a prompt with one workload's model, the check of
// the M3 Max review's test ("The rain in Spain" must continue as it does on the CPU, not as `!!!!`). Any
// workload whose sessions have a Generator works; the prompt is token ids, or text through
// GPT-2's byte-level BPE files.
#include <c10/core/Device.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "cli/commands.h"
#include "mlspeed/bench/failure.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/files.h"
#include "mlspeed/core/lists.h"
#include "mlspeed/core/precision.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/device.h"
#include "mlspeed/text/gpt2_bpe.h"
#include "mlspeed/workloads/generation.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed::cli {
namespace {

// A workload generates when its sizes have default numbers of new tokens (WorkloadSize).
bool generates(const Workload& w) {
  for (const auto& s : w.sizes())
    if (!s.new_tokens.empty()) return true;
  return false;
}

std::vector<std::string> generating_workloads() {
  std::vector<std::string> names;
  for (const Workload* w : workload_catalogue())
    if (generates(*w)) names.push_back(w->name());
  return names;
}

const Workload& choose_workload(const std::string& name) {
  const Workload* w = find_workload(name);
  if (!w)
    throw UsageError("--workload: unknown workload '" + name +
                     "'; workloads that generate: " + join(generating_workloads(), ", "));
  if (!generates(*w))
    throw UsageError("--workload: " + name +
                     " does not generate tokens; workloads that generate: " + join(generating_workloads(), ", "));
  return *w;
}

std::string ids_text(const std::vector<int64_t>& ids) {
  std::vector<std::string> items;
  for (int64_t id : ids) items.push_back(std::to_string(id));
  return join(items, " ");
}

// The text of `ids`; an id the vocabulary lacks (a model with a larger vocabulary than the
// files) shows as [id N].
std::string decode_known(const text::Gpt2Bpe& bpe, const std::vector<int64_t>& ids) {
  std::string out;
  std::vector<int64_t> run;
  for (int64_t id : ids) {
    if (bpe.has_id(id)) {
      run.push_back(id);
      continue;
    }
    out += bpe.decode(run) + "[id " + std::to_string(id) + "]";
    run.clear();
  }
  return out + bpe.decode(run);
}

DeviceFacts choose_device(const std::string& id) {
  const std::vector<DeviceFacts> devices = select_devices({id}, discover_devices(/*measure_cpu_peak=*/false));
  if (devices.size() != 1)
    throw UsageError("--device: '" + id + "' names " + std::to_string(devices.size()) +
                     " devices; generate runs on one (e.g. cpu, cuda:0)");
  return devices.front();
}

struct Output {
  std::vector<int64_t> prompt;
  Generation generation;
  std::optional<std::string> text, new_text;
  std::vector<std::string> warnings;
};

void print_markdown(const GenerateOptions& o, const Output& out) {
  const Generation& g = out.generation;
  std::cout << o.workload << " (" << o.size << ") on " << o.device << ", " << name(o.precision)
            << ", weights: " << (o.weights.empty() ? "random (seed " + std::to_string(o.seed) + ")" : o.weights)
            << "\n";
  std::cout << "prompt ids (" << out.prompt.size() << "): " << ids_text(out.prompt) << "\n";
  std::cout << "new ids (" << g.tokens.size() << "): " << ids_text(g.tokens) << "\n";
  if (out.text) std::cout << "text: " << *out.text << "\n";
  std::cout << "time to first token: " << printf_string("%.2f", g.first_token_ms) << " ms";
  if (g.tokens.size() > 1)
    std::cout << "; then " << printf_string("%.2f", (g.total_ms - g.first_token_ms) / double(g.tokens.size() - 1))
              << " ms/token (" << g.tokens.size() - 1 << " tokens)";
  std::cout << "; total " << printf_string("%.2f", g.total_ms) << " ms\n";
  for (const auto& w : out.warnings) std::cout << "warning: " << w << "\n";
}

void print_json(const GenerateOptions& o, const Output& out) {
  const Generation& g = out.generation;
  nlohmann::json j = {{"workload", o.workload},
                      {"size", o.size},
                      {"device", o.device},
                      {"dtype", name(o.precision)},
                      {"seed", o.seed},
                      {"weights", o.weights.empty() ? nlohmann::json() : nlohmann::json(o.weights)},
                      {"prompt_ids", out.prompt},
                      {"new_ids", g.tokens},
                      {"top2_margins", g.top2_margins},
                      {"first_token_ms", g.first_token_ms},
                      {"total_ms", g.total_ms},
                      {"warnings", out.warnings}};
  j["ms_per_token"] = g.tokens.size() > 1
                          ? nlohmann::json((g.total_ms - g.first_token_ms) / double(g.tokens.size() - 1))
                          : nlohmann::json();
  if (out.text) {
    j["text"] = *out.text;
    j["new_text"] = *out.new_text;
  }
  std::cout << j.dump(2) << "\n";
}

}  // namespace

int generate_command(const GenerateOptions& o) {
  // Everything a user can get wrong is checked before the model is built.
  const Workload& workload = choose_workload(o.workload);
  if (!find_size(workload, o.size)) {
    std::vector<std::string> sizes;
    for (const auto& s : workload.sizes()) sizes.push_back(s.name);
    throw UsageError("--sizes: " + o.workload + " has no size '" + o.size + "'; its sizes: " + join(sizes, ", "));
  }
  const Precision precision = o.precision;
  const uint64_t seed = o.seed;
  const int64_t new_tokens = o.new_tokens;
  if (!o.prompt && !o.ids) throw UsageError("no prompt: give --prompt TEXT (with --vocab DIR) or --ids LIST");
  if (o.prompt && o.ids) throw UsageError("--prompt and --ids: give the prompt one way, not both");
  if (o.prompt && o.vocab.empty())
    throw UsageError(
        "--prompt needs --vocab DIR (a folder with GPT-2's encoder.json and vocab.bpe) to turn the "
        "text into token ids; or give the ids with --ids");
  const DeviceFacts device = choose_device(o.device);
  if (auto reason = unsupported_reason(device, precision, workload.job())) throw UsageError("--dtype: " + *reason);

  try {
    std::optional<text::Gpt2Bpe> bpe;
    if (!o.vocab.empty()) bpe.emplace(text::Gpt2Bpe::from_directory(o.vocab));
    Output out;
    out.prompt = o.ids ? *o.ids : bpe->encode(*o.prompt);

    const std::unique_ptr<Session> session =
        workload.open(o.size, torch_device(device), precision, OpenOptions{seed, o.weights, ""});
    Generator* generator = session->generator();
    if (!generator) throw UsageError("--workload: " + o.workload + "'s model does not generate");
    const std::string model = o.workload + " (" + o.size + ")";
    for (int64_t id : out.prompt)
      if (id >= generator->vocab_size())
        throw UsageError((o.ids ? "--ids: token id " : "--prompt: the vocabulary's token id ") + std::to_string(id) +
                         " is outside the vocabulary of " + model + ", 0 to " +
                         std::to_string(generator->vocab_size() - 1));
    if (static_cast<int64_t>(out.prompt.size()) + new_tokens > generator->max_positions())
      throw UsageError("--new-tokens: " + std::to_string(out.prompt.size()) + " prompt tokens + " +
                       std::to_string(new_tokens) + " new tokens are more than the " +
                       std::to_string(generator->max_positions()) + " positions " + model + " takes");

    try {
      out.generation = generator->greedy(out.prompt, new_tokens);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }

    const std::vector<int64_t>& tokens = out.generation.tokens;
    if (o.weights.empty())
      out.warnings.push_back("no --weights: the weights are random (seed " + std::to_string(seed) +
                             "), so the tokens are gibberish; pass the model's .safetensors for real text");
    if (bpe) {
      std::vector<int64_t> all = out.prompt;
      all.insert(all.end(), tokens.begin(), tokens.end());
      out.text = decode_known(*bpe, all);
      out.new_text = decode_known(*bpe, tokens);
      if (bpe->vocab_size() != generator->vocab_size())
        out.warnings.push_back("the vocabulary in " + o.vocab + " has " + std::to_string(bpe->vocab_size()) +
                               " tokens, the model " + std::to_string(generator->vocab_size()) +
                               ": are they for the same model?");
    }
    if (tokens.size() > 1 && std::all_of(tokens.begin(), tokens.end(), [&](int64_t t) { return t == tokens[0]; })) {
      std::string which = "token " + std::to_string(tokens[0]);
      if (bpe && bpe->has_id(tokens[0])) which += " (" + nlohmann::json(bpe->decode({tokens[0]})).dump() + ")";
      out.warnings.push_back("every new token is " + which +
                             ": the output is one token repeated, the `!!!!` pattern of the M3 Max review (token 0 is \"!\" "
                             "in GPT-2); with real weights, compare with the CPU");
    }
    if (o.format == Format::json)
      print_json(o, out);
    else
      print_markdown(o, out);
    return 0;
  } catch (const UsageError&) {
    throw;
  } catch (const InputFileError& e) {
    std::cerr << "mlspeed generate: " << e.what() << "\n";
    return 2;
  } catch (const std::exception&) {
    // The device could not run the model (out of memory, a dtype it lacks, a failing kernel).
    const Failure failure = classify_failure(std::current_exception());
    std::cerr << "mlspeed generate: " << name(failure.status) << ": " << failure.message << "\n";
    return 1;
  }
}

}  // namespace mlspeed::cli
