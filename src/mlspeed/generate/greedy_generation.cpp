#include "mlspeed/generate/greedy_generation.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mlspeed/core/text.h"

namespace mlspeed {
namespace {

// The text of `ids`; an id the vocabulary lacks (a model with a larger vocabulary than the
// files) shows as [id N].
std::string decode_known(const text::Gpt2Bpe& bpe, const std::vector<int64_t>& ids) {
  std::string out;
  std::vector<int64_t> known;
  for (int64_t id : ids) {
    if (bpe.has_id(id)) {
      known.push_back(id);
      continue;
    }
    out += bpe.decode(known) + "[id " + std::to_string(id) + "]";
    known.clear();
  }
  return out + bpe.decode(known);
}

GenerationRow generation_template(const GenerationSetup& setup, const std::vector<int64_t>& prompt) {
  GenerationRow row;
  row.timestamp = now_iso8601();
  row.workload = setup.workload;
  row.size = setup.size;
  row.device = setup.device.id;
  row.precision = setup.precision;
  row.seed = setup.seed;
  row.weights = setup.weights;
  row.prompt_ids = prompt;
  row.device_facts = setup.device;
  row.host = setup.host;
  return row;
}

std::vector<std::string> warnings_of(const GenerationSetup& setup, const std::vector<int64_t>& tokens,
                                     const text::Gpt2Bpe* bpe, int64_t model_vocab_size) {
  std::vector<std::string> warnings;
  if (setup.weights.empty())
    warnings.push_back("no --weights: the weights are random (seed " + std::to_string(setup.seed) +
                       "), so the tokens are gibberish; pass the model's .safetensors for real text");
  if (bpe && bpe->vocab_size() != model_vocab_size)
    warnings.push_back("the vocabulary in " + setup.vocab_dir + " has " + std::to_string(bpe->vocab_size()) +
                       " tokens, the model " + std::to_string(model_vocab_size) + ": are they for the same model?");
  if (tokens.size() > 1 && std::all_of(tokens.begin(), tokens.end(), [&](int64_t t) { return t == tokens[0]; })) {
    std::string which = "token " + std::to_string(tokens[0]);
    if (bpe && bpe->has_id(tokens[0]))
      which += " (" + nlohmann::json(bpe->decode({tokens[0]})).dump(-1, ' ', false,
                                                                     nlohmann::json::error_handler_t::replace) + ")";
    warnings.push_back("every new token is " + which +
                       ": the output is one token repeated, the `!!!!` pattern of the M3 Max review (token 0 is "
                       "\"!\" in GPT-2); with real weights, compare with the CPU");
  }
  return warnings;
}

}  // namespace

GenerationRow generate_row(const GenerationSetup& setup, Generator& generator, const std::vector<int64_t>& prompt,
                           int64_t new_tokens, const text::Gpt2Bpe* bpe) {
  GenerationRow row = generation_template(setup, prompt);
  const Generation g = generator.greedy(prompt, new_tokens);
  row.new_ids = g.tokens;
  row.top2_margins = g.top2_margins;
  row.first_token_ms = g.first_token_ms;
  row.total_ms = g.total_ms;
  if (g.tokens.size() > 1) row.ms_per_token = (g.total_ms - g.first_token_ms) / double(g.tokens.size() - 1);
  if (bpe) {
    std::vector<int64_t> all = prompt;
    all.insert(all.end(), g.tokens.begin(), g.tokens.end());
    row.text = decode_known(*bpe, all);
    row.new_text = decode_known(*bpe, g.tokens);
  }
  row.warnings = join(warnings_of(setup, g.tokens, bpe, generator.vocab_size()), "\n");
  return row;
}

GenerationRow failed_generation_row(const GenerationSetup& setup, const std::vector<int64_t>& prompt,
                                    const Failure& failure) {
  GenerationRow row = generation_template(setup, prompt);
  row.status = failure.status;
  row.message = failure.message;
  return row;
}

}  // namespace mlspeed
