#include "mlspeed/generate/greedy_generation.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

GenerationRow generation_template(const GenerationSetup& setup, const GenerationPrompt& prompt) {
  GenerationRow row;
  row.timestamp = now_iso8601();
  row.workload = setup.workload;
  row.size = setup.size;
  row.device = setup.device.id;
  row.precision = setup.precision;
  row.seed = setup.seed;
  row.weights = setup.weights;
  row.weight_format = setup.weight_format;
  row.prompt_ids = prompt.ids;
  row.prompt_tokens = static_cast<int64_t>(prompt.ids.size());
  row.prompt_text = prompt.text;
  row.chat_template = prompt.chat_template;
  row.question = prompt.question;
  row.repetition = prompt.repetition;
  row.device_facts = setup.device;
  row.host = setup.host;
  return row;
}

// One token repeated is the `!!!!` of the M3 Max review; an end-of-generation token closing the
// run does not make it varied.
std::optional<std::string> repeated_token_warning(std::vector<int64_t> tokens, bool ended_by_token,
                                                  const RowVocabulary* vocabulary) {
  if (ended_by_token && !tokens.empty()) tokens.pop_back();
  if (tokens.size() < 2 || !std::all_of(tokens.begin(), tokens.end(), [&](int64_t t) { return t == tokens[0]; }))
    return std::nullopt;
  std::string which = "token " + std::to_string(tokens[0]);
  if (vocabulary && vocabulary->has_id(tokens[0]))
    which += " (" + nlohmann::json(vocabulary->decode({tokens[0]})).dump(-1, ' ', false,
                                                                        nlohmann::json::error_handler_t::replace) + ")";
  return "every new token is " + which +
         ": the output is one token repeated, the `!!!!` pattern of the M3 Max review (token 0 is \"!\" in GPT-2); "
         "with real weights, compare with the CPU";
}

std::vector<std::string> warnings_of(const GenerationSetup& setup, const Generation& g, bool ended_by_token,
                                     const RowVocabulary* vocabulary, int64_t model_vocab_size) {
  std::vector<std::string> warnings;
  if (setup.weights.empty())
    warnings.push_back("no --weights: the weights are random (seed " + std::to_string(setup.seed) +
                       "), so the tokens are gibberish; pass the model's .safetensors for real text");
  warnings.insert(warnings.end(), setup.notes.begin(), setup.notes.end());
  if (vocabulary && vocabulary->size() != model_vocab_size)
    warnings.push_back(vocabulary->source() + " has " + std::to_string(vocabulary->size()) + " tokens, the model " +
                       std::to_string(model_vocab_size) + ": are they for the same model?");
  if (auto repeated = repeated_token_warning(g.tokens, ended_by_token, vocabulary)) warnings.push_back(*repeated);
  return warnings;
}

// Tokens/s as llama.cpp reports them: the prompt over the time to the first token; the tokens
// after the first over the time after it (each one forward of one token).
void set_speeds(GenerationRow& row) {
  if (row.first_token_ms && *row.first_token_ms > 0)
    row.prompt_tokens_per_s = double(row.prompt_tokens) / (*row.first_token_ms / 1e3);
  if (row.new_tokens < 2 || !row.total_ms || !row.first_token_ms) return;
  const double after_first_ms = *row.total_ms - *row.first_token_ms;
  row.ms_per_token = after_first_ms / double(row.new_tokens - 1);
  if (after_first_ms > 0) row.generation_tokens_per_s = double(row.new_tokens - 1) / (after_first_ms / 1e3);
}

}  // namespace

GenerationRow finished_generation_row(const GenerationSetup& setup, const GenerationPrompt& prompt,
                                      const Generation& g, bool ended_by_token, int64_t model_vocab_size,
                                      const RowVocabulary* vocabulary) {
  GenerationRow row = generation_template(setup, prompt);
  row.new_ids = g.tokens;
  row.new_tokens = static_cast<int64_t>(g.tokens.size());
  row.top2_margins = g.top2_margins;
  row.first_token_ms = g.first_token_ms;
  row.total_ms = g.total_ms;
  row.stopped_by = ended_by_token ? "eos" : "limit";
  set_speeds(row);
  if (vocabulary) {
    std::vector<int64_t> all = prompt.ids;
    all.insert(all.end(), g.tokens.begin(), g.tokens.end());
    row.text = decode_known(*vocabulary, all);
    row.new_text = decode_known(*vocabulary, g.tokens);
  }
  row.warnings = join(warnings_of(setup, g, ended_by_token, vocabulary, model_vocab_size), "\n");
  return row;
}

GenerationRow generate_row(const GenerationSetup& setup, Generator& generator, const std::vector<int64_t>& prompt,
                           int64_t new_tokens, const RowVocabulary* vocabulary) {
  const Generation g = generator.greedy(prompt, new_tokens);
  return finished_generation_row(setup, GenerationPrompt{prompt, "", ""}, g, /*ended_by_token=*/false,
                                 generator.vocab_size(), vocabulary);
}

GenerationRow failed_generation_row(const GenerationSetup& setup, const GenerationPrompt& prompt,
                                    const Failure& failure) {
  GenerationRow row = generation_template(setup, prompt);
  row.status = failure.status;
  row.message = failure.message;
  return row;
}

}  // namespace mlspeed
