// `mlspeed generate`: greedy generation from a prompt with one workload's model, the check of the
// M3 Max review's test ("The rain in Spain" must continue as it does on the CPU, not as `!!!!`).
// Any workload whose sessions have a Generator works; the prompt is token ids, or text through
// GPT-2's byte-level BPE files. With --model FILE.gguf the model and its vocabulary come from a
// llama.cpp file instead (generate/gguf_chat.h): a prompt of your own, or mac-ml-speed-test's
// llama.cpp test, the bundled questions each asked several times. Every generation is a row
// (generate/generation_row.h), stored and printed through the run session as run's and verify's
// rows are.
#include <c10/core/Device.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>

#include "cli/commands.h"
#include "mlspeed/bench/failure.h"
#include "mlspeed/core/errors.h"
#include "mlspeed/core/live_line.h"
#include "mlspeed/core/text.h"
#include "mlspeed/device/device.h"
#include "mlspeed/generate/chat_questions.h"
#include "mlspeed/generate/generation_printer.h"
#include "mlspeed/generate/gguf_chat.h"
#include "mlspeed/generate/greedy_generation.h"
#include "mlspeed/generate/row_vocabulary.h"
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
  if (!o.prompt && !o.ids)
    throw UsageError("no prompt: give --prompt TEXT (with --vocab DIR) or --ids LIST, or --model FILE.gguf");
  if (o.prompt && o.ids) throw UsageError("--prompt and --ids: give the prompt one way, not both");
  if (o.prompt && o.vocab.empty())
    throw UsageError(
        "--prompt needs --vocab DIR (a folder with GPT-2's encoder.json and vocab.bpe) to turn the "
        "text into token ids; or give the ids with --ids, or a GGUF model and its vocabulary with --model FILE.gguf");
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
  return {o.workload, o.size, device, context.host, o.precision, static_cast<int64_t>(o.seed), o.weights, {}, {}};
}

// Builds the model and generates; a device that cannot run the model gives a failed row. The
// session begins (the run is stored, the header printed) once the prompt is known to fit.
GenerationRow generate(const GenerateOptions& o, const Workload& workload, const DeviceFacts& device,
                       const std::vector<int64_t>& prompt, const RowVocabulary* vocabulary,
                       RunSession<GenerationRow>& session) {
  const GenerationSetup setup = make_setup(o, device, session.context());
  std::unique_ptr<Session> model;
  try {
    model = workload.open(o.size, torch_device(device), o.precision, OpenOptions{o.seed, o.weights, ""});
  } catch (const InputFileError&) {
    throw;
  } catch (const std::exception&) {
    const Failure failure = classify_failure(std::current_exception());
    session.begin();
    return failed_generation_row(setup, GenerationPrompt{prompt, "", ""}, failure);
  }
  Generator* generator = model->generator();
  if (!generator) throw UsageError("--workload: " + o.workload + "'s model does not generate");
  check_prompt_fits(o, prompt, *generator);
  session.begin();
  try {
    return generate_row(setup, *generator, prompt, o.new_tokens, vocabulary);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  } catch (const std::exception&) {
    return failed_generation_row(setup, GenerationPrompt{prompt, "", ""}, classify_failure(std::current_exception()));
  }
}

// --- --model FILE.gguf ---------------------------------------------------------------------------

// mac-ml-speed-test's max_tokens: the most an answer gets when -g is not given.
constexpr int64_t kDefaultAnswerTokens = 500;

// The run's prompts: --prompt, or each bundled question `repetitions` times in a row, in order
// (as mac-ml-speed-test asks them).
std::vector<GenerationPrompt> gguf_prompts(const GenerateOptions& o, const GgufChat& chat) {
  const ChatOptions chat_options{o.chat, o.system};
  if (!o.questions) return {chat.prompt(*o.prompt, chat_options)};
  std::vector<GenerationPrompt> prompts;
  const std::vector<std::string>& questions = chat_questions();
  for (size_t q = 0; q < questions.size(); ++q) {
    const GenerationPrompt asked = chat.prompt(questions[q], chat_options, static_cast<int64_t>(q) + 1);
    for (int64_t r = 1; r <= o.repetitions; ++r) {
      prompts.push_back(asked);
      prompts.back().repetition = r;
    }
  }
  return prompts;
}

// -g, or up to 500; the longest prompt and its answer must fit the model's context.
int64_t gguf_new_tokens(const GenerateOptions& o, const GgufChat& chat, const std::vector<GenerationPrompt>& prompts) {
  size_t longest = 0;
  for (const GenerationPrompt& p : prompts) longest = std::max(longest, p.ids.size());
  const int64_t room = chat.max_positions() - static_cast<int64_t>(longest);
  const std::string prompt =
      std::to_string(longest) + (o.questions ? " tokens of the longest question" : " prompt tokens");
  const std::string positions = std::to_string(chat.max_positions()) + " positions " + chat.path() + " takes";
  if (room < 1)
    throw UsageError(std::string(o.questions ? "--questions" : "--prompt") + ": its " + prompt + " fill the " +
                     positions + "; nothing is left to generate");
  if (o.new_tokens == 0) return std::min(kDefaultAnswerTokens, room);
  if (o.new_tokens > room)
    throw UsageError("--new-tokens: " + prompt + " + " + std::to_string(o.new_tokens) +
                     " new tokens are more than the " + positions);
  return o.new_tokens;
}

GenerationSetup gguf_setup(const GenerateOptions& o, const GgufChat& chat, const DeviceFacts& device,
                           const RunContext& context) {
  return {chat.workload().name(), "full", device, context.host, o.precision, 0, chat.path(), chat.model().file_type,
          chat.notes()};
}

// Builds the model (and warms it up on the first prompt) and begins the run; a device that cannot
// run the model gives a failed row (false). A file whose weights turn out bad is bad input
// (InputFileError, thrown on).
bool open_chat_model(GgufChat& chat, const DeviceFacts& device, Precision precision, const GenerationSetup& setup,
                     const GenerationPrompt& first, RunSession<GenerationRow>& session) {
  try {
    chat.open(torch_device(device), precision, first);
  } catch (const InputFileError&) {
    throw;
  } catch (const std::exception&) {
    const Failure failure = classify_failure(std::current_exception());
    session.begin();
    session.add(failed_generation_row(setup, first, failure));
    return false;
  }
  session.begin();
  return true;
}

// "[7/100] question 2 of 20, repetition 2 of 5: Walk me through how rain ... · last 12.3 tokens/s"
std::string question_progress(const GenerationPrompt& p, size_t index, size_t total, int64_t repetitions,
                              const std::vector<GenerationRow>& done) {
  std::string text = printf_string("[%zu/%zu] question %lld of %zu, repetition %lld of %lld: ", index + 1, total,
                                   static_cast<long long>(p.question), chat_questions().size(),
                                   static_cast<long long>(p.repetition), static_cast<long long>(repetitions)) +
                     excerpt(p.text, 40);
  if (!done.empty() && done.back().generation_tokens_per_s)
    text += printf_string(" · last %.1f tokens/s", *done.back().generation_tokens_per_s);
  return text;
}

// Each prompt in turn, a row each; Ctrl-C drops the answer under way and keeps the rows before it.
int ask_all(GgufChat& chat, const GenerateOptions& o, const GenerationSetup& setup,
            const std::vector<GenerationPrompt>& prompts, int64_t new_tokens, RunSession<GenerationRow>& session) {
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (session.stop_requested()) return session.finish(RunEnd::interrupted);
    const GenerationPrompt& p = prompts[i];
    if (p.question > 0)
      LiveLine::on_stderr().show(question_progress(p, i, prompts.size(), o.repetitions, session.rows()));
    std::optional<GenerationRow> row;
    try {
      row = chat.answer(setup, p, new_tokens, &session.stop_flag());
    } catch (const std::exception&) {
      row = failed_generation_row(setup, p, classify_failure(std::current_exception()));
    }
    if (!row) return session.finish(RunEnd::interrupted);
    session.add(std::move(*row));
  }
  return session.finish(RunEnd::complete);
}

int generate_gguf(const GenerateOptions& o, const std::string& command_line) {
  try {
    GgufChat chat(o.model);
    const DeviceFacts device = choose_device(o.device);
    if (auto reason = unsupported_reason(device, o.precision, chat.workload().job()))
      throw UsageError("--dtype: " + *reason);
    const std::vector<GenerationPrompt> prompts = gguf_prompts(o, chat);
    const int64_t new_tokens = gguf_new_tokens(o, chat, prompts);
    const SessionSetup setup{"mlspeed generate", !o.no_db, o.db, "the current token; the answer under way is dropped",
                             static_cast<int64_t>(prompts.size()), "generations", o.label};
    RunSession<GenerationRow> session(setup, capture_context(command_line, {device}),
                                      make_generation_printer(o.format, std::cout),
                                      [](const GenerationRow& row) { return row.status != Status::ok; });
    const GenerationSetup generation = gguf_setup(o, chat, device, session.context());
    if (!open_chat_model(chat, device, o.precision, generation, prompts.front(), session))
      return session.finish(RunEnd::complete);
    return ask_all(chat, o, generation, prompts, new_tokens, session);
  } catch (const InputFileError& e) {
    std::cerr << "mlspeed generate: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace

int generate_command(const GenerateOptions& o, const std::string& command_line) {
  if (!o.model.empty()) return generate_gguf(o, command_line);
  // Everything a user can get wrong is checked before the model is built.
  const Workload& workload = choose_workload(o);
  check_prompt_options(o);
  const DeviceFacts device = choose_device(o.device);
  if (auto reason = unsupported_reason(device, o.precision, workload.job())) throw UsageError("--dtype: " + *reason);
  try {
    std::optional<text::Gpt2Bpe> bpe;
    std::unique_ptr<RowVocabulary> vocabulary;
    if (!o.vocab.empty()) {
      bpe.emplace(text::Gpt2Bpe::from_directory(o.vocab));
      vocabulary = gpt2_row_vocabulary(*bpe, o.vocab);
    }
    const std::vector<int64_t> prompt = o.ids ? *o.ids : bpe->encode(*o.prompt);
    const SessionSetup setup{"mlspeed generate", !o.no_db, o.db, "the generation", 1, "generations", o.label};
    RunSession<GenerationRow> session(setup, capture_context(command_line, {device}),
                                      make_generation_printer(o.format, std::cout),
                                      [](const GenerationRow& row) { return row.status != Status::ok; });
    session.add(generate(o, workload, device, prompt, vocabulary.get(), session));
    return session.finish(RunEnd::complete);
  } catch (const InputFileError& e) {
    std::cerr << "mlspeed generate: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mlspeed::cli
