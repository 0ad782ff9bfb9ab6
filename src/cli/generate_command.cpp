// `mlspeed generate`: greedy generation from a prompt with one workload's model, the check of the
// M3 Max review's test ("The rain in Spain" must continue as it does on the CPU, not as `!!!!`).
// Any workload whose sessions have a Generator works; the prompt is token ids, or text through
// GPT-2's byte-level BPE files. The generation is a row (generate/generation_row.h), stored and
// printed through the run session as run's and verify's rows are.
#include <c10/core/Device.h>

#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli/commands.h"
#include "mlspeed/bench/failure.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/device.h"
#include "mlspeed/generate/generation_printer.h"
#include "mlspeed/generate/greedy_generation.h"
#include "mlspeed/session/run_session.h"
#include "mlspeed/text/gpt2_bpe.h"
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

const Workload& choose_workload(const GenerateOptions& o) {
  const Workload* w = find_workload(o.workload);
  if (!w)
    throw UsageError("--workload: unknown workload '" + printable(o.workload) +
                     "'; workloads that generate: " + join(generating_workloads(), ", "));
  if (!generates(*w))
    throw UsageError("--workload: " + o.workload +
                     " does not generate tokens; workloads that generate: " + join(generating_workloads(), ", "));
  if (!find_size(*w, o.size)) {
    std::vector<std::string> sizes;
    for (const auto& s : w->sizes()) sizes.push_back(s.name);
    throw UsageError("--sizes: " + o.workload + " has no size '" + printable(o.size) + "'; its sizes: " +
                     join(sizes, ", "));
  }
  return *w;
}

void check_prompt_options(const GenerateOptions& o) {
  if (!o.prompt && !o.ids) throw UsageError("no prompt: give --prompt TEXT (with --vocab DIR) or --ids LIST");
  if (o.prompt && o.ids) throw UsageError("--prompt and --ids: give the prompt one way, not both");
  if (o.prompt && o.vocab.empty())
    throw UsageError(
        "--prompt needs --vocab DIR (a folder with GPT-2's encoder.json and vocab.bpe) to turn the "
        "text into token ids; or give the ids with --ids");
}

DeviceFacts choose_device(const std::string& id) {
  const std::vector<DeviceFacts> devices = select_devices({id}, discover_devices(/*measure_cpu_peak=*/false));
  if (devices.size() != 1)
    throw UsageError("--device: '" + printable(id) + "' names " + std::to_string(devices.size()) +
                     " devices; generate runs on one (e.g. cpu, cuda:0)");
  return devices.front();
}

// The prompt must be in the model's vocabulary and, with the new tokens, fit its positions.
void check_prompt_fits(const GenerateOptions& o, const std::vector<int64_t>& prompt, const Generator& generator) {
  const std::string model = o.workload + " (" + o.size + ")";
  for (int64_t id : prompt)
    if (id >= generator.vocab_size())
      throw UsageError((o.ids ? "--ids: token id " : "--prompt: the vocabulary's token id ") + std::to_string(id) +
                       " is outside the vocabulary of " + model + ", 0 to " +
                       std::to_string(generator.vocab_size() - 1));
  if (static_cast<int64_t>(prompt.size()) + o.new_tokens > generator.max_positions())
    throw UsageError("--new-tokens: " + std::to_string(prompt.size()) + " prompt tokens + " +
                     std::to_string(o.new_tokens) + " new tokens are more than the " +
                     std::to_string(generator.max_positions()) + " positions " + model + " takes");
}

GenerationSetup make_setup(const GenerateOptions& o, const DeviceFacts& device, const RunContext& context) {
  return {o.workload, o.size, device, context.host, o.precision, static_cast<int64_t>(o.seed), o.weights, o.vocab};
}

// Builds the model and generates; a device that cannot run the model gives a failed row. The
// session begins (the run is stored, the header printed) once the prompt is known to fit.
GenerationRow generate(const GenerateOptions& o, const Workload& workload, const DeviceFacts& device,
                       const std::vector<int64_t>& prompt, const text::Gpt2Bpe* bpe, RunSession<GenerationRow>& session) {
  const GenerationSetup setup = make_setup(o, device, session.context());
  std::unique_ptr<Session> model;
  try {
    model = workload.open(o.size, torch_device(device), o.precision, OpenOptions{o.seed, o.weights, ""});
  } catch (const InputFileError&) {
    throw;
  } catch (const std::exception&) {
    const Failure failure = classify_failure(std::current_exception());
    session.begin();
    return failed_generation_row(setup, prompt, failure);
  }
  Generator* generator = model->generator();
  if (!generator) throw UsageError("--workload: " + o.workload + "'s model does not generate");
  check_prompt_fits(o, prompt, *generator);
  session.begin();
  try {
    return generate_row(setup, *generator, prompt, o.new_tokens, bpe);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  } catch (const std::exception&) {
    return failed_generation_row(setup, prompt, classify_failure(std::current_exception()));
  }
}

}  // namespace

int generate_command(const GenerateOptions& o, const std::string& command_line) {
  // Everything a user can get wrong is checked before the model is built.
  const Workload& workload = choose_workload(o);
  check_prompt_options(o);
  const DeviceFacts device = choose_device(o.device);
  if (auto reason = unsupported_reason(device, o.precision, workload.job())) throw UsageError("--dtype: " + *reason);
  try {
    std::optional<text::Gpt2Bpe> bpe;
    if (!o.vocab.empty()) bpe.emplace(text::Gpt2Bpe::from_directory(o.vocab));
    const std::vector<int64_t> prompt = o.ids ? *o.ids : bpe->encode(*o.prompt);
    const SessionSetup setup{"mlspeed generate", !o.no_db, o.db, "the generation", 1, "generations", o.label};
    RunSession<GenerationRow> session(setup, capture_context(command_line, {device}),
                                      make_generation_printer(o.format, std::cout),
                                      [](const GenerationRow& row) { return row.status != Status::ok; });
    session.add(generate(o, workload, device, prompt, bpe ? &*bpe : nullptr, session));
    return session.finish(RunEnd::complete);
  } catch (const InputFileError& e) {
    std::cerr << "mlspeed generate: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mlspeed::cli
