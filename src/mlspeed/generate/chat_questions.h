// The question set of `mlspeed generate --model FILE.gguf --questions`: mac-ml-speed-test's
// llama.cpp test asks a Llama-2 chat model 20 general-knowledge questions, each several times (5
// by default), and reports tokens/s. These 20 are mlspeed's own wording in the same spirit: each
// asks for a step-by-step explanation, so that a chat model answers at length and the generation
// dominates the time. They are fixed: changing one changes what every stored run measured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlspeed/generate/generation_row.h"

namespace mlspeed {

const std::vector<std::string>& chat_questions();

// What the printers show after the question rows: over the rows that generated (status ok),
// the mean and median of each rate, and how the answers ended.
struct ChatSpeedSummary {
  int64_t generations = 0;  // rows with status ok
  int64_t failed = 0;
  int64_t new_tokens = 0;
  int64_t ended_by_eos = 0;
  double total_s = 0;  // the generations' total_ms summed
  double prompt_mean = 0, prompt_median = 0;            // prompt tokens/s
  double generation_mean = 0, generation_median = 0;    // generation tokens/s
  int64_t prompt_samples = 0, generation_samples = 0;  // rows that had each rate
};
ChatSpeedSummary summarize_chat_speeds(const std::vector<GenerationRow>& rows);

}  // namespace mlspeed
