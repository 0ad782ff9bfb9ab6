#include "mlspeed/generate/generation_row.h"

#include "mlspeed/results/enum_names.h"
#include "mlspeed/results/machine_fields.h"

namespace mlspeed {
namespace {

template <class Access> GenerationField generation_field(std::string name, std::string help, Access access) {
  return make_field<GenerationRow>(std::move(name), std::move(help), access);
}

#define MEMBER(expr) [](auto& r) -> auto& { return r.expr; }

// Context fields carry the same names as in the results and checks tables, so one query can join them.
std::vector<GenerationField> make_generation_fields() {
  std::vector<GenerationField> fields = {
      generation_field("run_id", "id of the run in the results database (0 if not stored)", MEMBER(run_id)),
      generation_field("timestamp", "when the generation ran (UTC)", MEMBER(timestamp)),
      generation_field("workload", "the workload whose model generated", MEMBER(workload)),
      generation_field("size", "the workload size", MEMBER(size)),
      generation_field("device", "device id (cpu, cuda:0, mps)", MEMBER(device)),
      generation_field("dtype", "the dtype the model was cast to (fp32, tf32, fp16, bf16)", MEMBER(precision)),
      generation_field("seed", "seed of the random weights", MEMBER(seed)),
      generation_field("weights", "the weights file (.safetensors, or the .gguf of --model); empty: random weights",
                       MEMBER(weights)),
      generation_field("weight_format", "the GGUF file's type (q4_0, q8_0, q4_k_m, ...); empty otherwise",
                       MEMBER(weight_format)),
      generation_field("prompt_text", "the prompt as typed, or the bundled question, before any chat template",
                       MEMBER(prompt_text)),
      generation_field("chat_template", "llama-2 or llama-3: the prompt wrapped in that model's chat template; empty: none",
                       MEMBER(chat_template)),
      generation_field("question", "--questions: the bundled question asked, 1 to 20; 0 otherwise", MEMBER(question)),
      generation_field("repetition", "--questions: which time it was asked, from 1; 0 otherwise", MEMBER(repetition)),
      generation_field("prompt_ids", "the prompt's token ids", MEMBER(prompt_ids)),
      generation_field("new_ids", "the generated token ids", MEMBER(new_ids)),
      generation_field("top2_margins", "per new token: top-1 minus top-2 logit", MEMBER(top2_margins)),
      generation_field("text", "prompt and new tokens as text (with a vocabulary)", MEMBER(text)),
      generation_field("new_text", "the new tokens as text (with a vocabulary)", MEMBER(new_text)),
      generation_field("first_token_ms", "prompt processing and the first token, ms", MEMBER(first_token_ms)),
      generation_field("ms_per_token", "each later token, ms", MEMBER(ms_per_token)),
      generation_field("total_ms", "the whole generation, ms", MEMBER(total_ms)),
      generation_field("prompt_tokens", "tokens in the prompt", MEMBER(prompt_tokens)),
      generation_field("new_tokens", "tokens generated, an end-of-generation token included", MEMBER(new_tokens)),
      generation_field("prompt_tokens_per_s", "prompt processing: prompt tokens / time to first token",
                       MEMBER(prompt_tokens_per_s)),
      generation_field("generation_tokens_per_s",
                       "generation: tokens after the first / the time after the first token (one forward each)",
                       MEMBER(generation_tokens_per_s)),
      generation_field("stopped_by", "eos: the model's end-of-generation token; limit: the -g count; empty: failed",
                       MEMBER(stopped_by)),
      generation_field("status", "ok, or oom, unsupported, error: the device could not run the model", MEMBER(status)),
      generation_field("message", "what went wrong", MEMBER(message)),
      generation_field("warnings", "what to look at, one per line (random weights, one token repeated, ...)", MEMBER(warnings)),
      generation_field("device_id", "device id in the device facts", MEMBER(device_facts.id)),
      generation_field("device_kind", "cpu, cuda or mps", MEMBER(device_facts.kind)),
      generation_field("device_index", "device index", MEMBER(device_facts.index)),
  };
  for (auto& f : machine_fields<GenerationRow>()) fields.push_back(std::move(f));
  return fields;
}

#undef MEMBER

}  // namespace

const std::vector<GenerationField>& generation_fields() {
  static const std::vector<GenerationField> fields = make_generation_fields();
  return fields;
}

}  // namespace mlspeed
