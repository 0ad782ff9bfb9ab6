// One greedy generation as a row (generation_row.h): the model's new tokens for a prompt, timed,
// with the warnings a person should read beside them — random weights (gibberish, not a fault),
// one token repeated (the `!!!!` of the M3 Max review), a vocabulary that does not fit the model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlspeed/bench/failure.h"
#include "mlspeed/generate/generation_row.h"
#include "mlspeed/text/gpt2_bpe.h"
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
  std::string vocab_dir;  // the folder `bpe` was read from; empty without one
};

// Generates `new_tokens` after `prompt` and returns the row; `bpe` (may be null) turns ids into
// text. Throws what the generator throws (a failing device: see failed_generation_row).
GenerationRow generate_row(const GenerationSetup& setup, Generator& generator, const std::vector<int64_t>& prompt,
                           int64_t new_tokens, const text::Gpt2Bpe* bpe);

// The row of a generation the device could not run (out of memory, a dtype it lacks, a kernel
// that failed): the status and message instead of tokens.
GenerationRow failed_generation_row(const GenerationSetup& setup, const std::vector<int64_t>& prompt,
                                    const Failure& failure);

}  // namespace mlspeed
