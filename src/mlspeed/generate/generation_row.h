// One greedy generation from a prompt (`mlspeed generate`, the `!!!!` check of the M3 Max review;
// with --model, an answer of a GGUF chat model, one of the bundled questions) as a row: what was
// asked, the tokens, the times and the speeds (prompt processing and generation apart, in
// tokens/s as llama.cpp reports them), how it ended, the warnings and the machine it ran on.
// Stored, printed, exported and imported like the other row types, from its field list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/core/weight_format.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"
#include "mlspeed/results/field_list.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

struct GenerationRow {
  int64_t run_id = 0;     // 0 until stored
  std::string timestamp;  // when it ran, ISO 8601 UTC
  std::string workload;   // "gpt2-generate"; with --model the file's name without ".gguf"
  std::string size;
  std::string device;  // "cuda:0"
  Precision precision = Precision::fp32;
  int64_t seed = 0;     // of the random weights
  std::string weights;  // the .safetensors or .gguf file; empty: random weights
  std::optional<ModelFormat> weight_format;  // a GGUF file's type (q4_0, ...); empty otherwise
  std::string prompt_text;    // the prompt as typed, or the bundled question, before any chat template
  std::string chat_template;  // "llama-2" or "llama-3": the chat template the prompt was wrapped in
  int64_t question = 0;       // --questions: 1 to 20, the bundled question asked; 0 otherwise
  int64_t repetition = 0;     // --questions: 1 to -r, which time it was asked; 0 otherwise
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> new_ids;  // the generated ids, prompt excluded
  std::vector<double> top2_margins;  // per new token: top-1 minus top-2 logit
  std::string text;      // prompt and new tokens as text; empty without a vocabulary
  std::string new_text;  // the new tokens as text
  std::optional<double> first_token_ms;  // prompt processing and the first token
  std::optional<double> ms_per_token;    // each later token
  std::optional<double> total_ms;
  int64_t prompt_tokens = 0;  // prompt_ids' count
  int64_t new_tokens = 0;     // new_ids' count, an end-of-generation token included
  // prompt_tokens / first_token_ms; (new_tokens - 1) / (total_ms - first_token_ms): the prompt in
  // one forward, then one forward a token (llama.cpp's "prompt eval" and "eval" rates)
  std::optional<double> prompt_tokens_per_s;
  std::optional<double> generation_tokens_per_s;
  std::string stopped_by;  // "eos": the model's end-of-generation token; "limit": -g tokens; "" when it failed
  Status status = Status::ok;  // error: the device failed to run the model (message says how)
  std::string message;
  std::string warnings;  // one per line: random weights, one token repeated, a vocabulary mismatch
  DeviceFacts device_facts;
  HostFacts host;
};

using GenerationField = BasicField<GenerationRow>;
const std::vector<GenerationField>& generation_fields();

// A generate run's rows in the results database (results/row_table.h).
template <> struct RowType<GenerationRow> {
  static constexpr const char* kind = "generate";
  static constexpr const char* table = "generations";
  static constexpr const char* noun = "generation";
  static const std::vector<GenerationField>& fields() { return generation_fields(); }
  // A result's key fields and the generated ids: a row list with them all is of generations.
  static std::vector<std::string> key_fields() { return {"workload", "device", "status", "new_ids"}; }
  static std::string describe(const GenerationRow& g) {  // "gpt2-generate full cpu fp32", "... question 3 rep 2"
    return g.workload + " " + g.size + " " + g.device + " " + std::string(name(g.precision)) +
           (g.question > 0 ? " question " + std::to_string(g.question) + " rep " + std::to_string(g.repetition) : "");
  }
};

}  // namespace mlspeed
