// One greedy generation as a row (generation_row.h): the model's new tokens for a prompt, timed,
// with the speeds (prompt processing and generation apart) and the warnings a person should read
// beside them — random weights (gibberish, not a fault), one token repeated (the `!!!!` of the M3
// Max review), a vocabulary that does not fit the model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/bench/failure.h"
#include "mlspeed/generate/generation_row.h"
#include "mlspeed/generate/row_vocabulary.h"
#include "mlspeed/workloads/generation.h"

namespace mlspeed {

// What every row of a generation carries whatever happened: the model, the device, the weights.
struct GenerationSetup {
  std::string workload, size;
  DeviceFacts device;
  HostFacts host;
  Precision precision = Precision::fp32;
  int64_t seed = 0;
  std::string weights;  // empty: random weights
  std::optional<ModelFormat> weight_format;  // a GGUF file's type
  std::vector<std::string> notes;  // warnings for every row (a GGUF file of random weights)
};

// What was asked: the ids, and when they came from text, the text and how it was wrapped.
struct GenerationPrompt {
  std::vector<int64_t> ids;
  std::string text;           // as typed, or the bundled question; empty for ids given as ids
  std::string chat_template;  // "llama-2", "llama-3" or empty
  int64_t question = 0, repetition = 0;  // --questions' numbering, from 1; 0 otherwise
};

// Generates `new_tokens` after `prompt` and returns the row (stopped_by "limit": a Generator has
// no stop token); `vocabulary` (may be null) turns ids into text. Throws what the generator
// throws (a failing device: see failed_generation_row).
GenerationRow generate_row(const GenerationSetup& setup, Generator& generator, const std::vector<int64_t>& prompt,
                           int64_t new_tokens, const RowVocabulary* vocabulary);

// The row of a finished generation `g` of a model of `model_vocab_size` ids: ids, text, times,
// tokens/s, how it ended and the warnings.
GenerationRow finished_generation_row(const GenerationSetup& setup, const GenerationPrompt& prompt,
                                      const Generation& g, bool ended_by_token, int64_t model_vocab_size,
                                      const RowVocabulary* vocabulary);

// The row of a generation the device could not run (out of memory, a dtype it lacks, a kernel
// that failed): the status and message instead of tokens.
GenerationRow failed_generation_row(const GenerationSetup& setup, const GenerationPrompt& prompt,
                                    const Failure& failure);

}  // namespace mlspeed
