// The options of `mlspeed generate`, declared once in its table (option_table.h). Two ways in: a
// catalogue workload (-w, --sizes, --weights, a prompt as --ids or as text with GPT-2's --vocab),
// or a GGUF file (--model: its weights and its vocabulary; --prompt, or the bundled --questions).
// Which options go with which way is checked here, from what was typed; which workload, size and
// device exist, and whether the prompt is given one way, by generate_command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/option_table.h"
#include "mlspeed/core/precision.h"
#include "mlspeed/results/formats.h"

namespace mlspeed::cli {

struct GenerateOptions {
  std::string workload;
  std::string size;
  std::string device;
  Precision precision = Precision::fp32;
  std::string weights;  // empty: random weights from the seed
  uint64_t seed = 0;
  std::string vocab;                         // a folder with GPT-2's encoder.json and vocab.bpe
  std::optional<std::string> prompt;         // text (needs vocab, or model)
  std::optional<std::vector<int64_t>> ids;   // the prompt as token ids
  int64_t new_tokens = 0;  // -g; 0 with --model when not given: up to EOS, at most 500
  std::string model;      // --model: a GGUF file; empty for a catalogue workload
  bool chat = false;      // wrap --prompt in Llama-2-chat's template (--system and --questions imply it)
  std::string system;     // the chat template's system prompt
  bool questions = false;  // the 20 bundled questions, each `repetitions` times
  int64_t repetitions = 5;
  Format format = Format::md;
  std::string db;     // empty: the default path
  bool no_db = false;
  std::string label;  // --label: the user's name for the stored run; empty for none
};

const OptionTable<GenerateOptions>& generate_option_table();
GenerateOptions parse_generate_options(const Given& given);

}  // namespace mlspeed::cli
