// The options of `mlspeed quantize`, declared once in its table (option_table.h).
#pragma once

#include <string>

#include "cli/option_table.h"
#include "mlspeed/core/weight_format.h"

namespace mlspeed::cli {

struct QuantizeOptions {
  std::string input;   // a GGUF file, a Hugging Face checkpoint (folder or file), or "random:SIZE"
  std::string output;  // the GGUF file to write
  ModelFormat type = ModelFormat::q4_0;
  uint64_t seed = 0;   // random:SIZE's weights
};

const OptionTable<QuantizeOptions>& quantize_option_table();
// Refuses an output path that is the input, or a random: input naming no size.
QuantizeOptions parse_quantize_options(const Given& given);

}  // namespace mlspeed::cli
