// Greedy generation with a KV cache, for `mlspeed generate` and for verification: token ids in,
// token ids out, with what a verifier needs to judge a mismatch (the top-2 logit margin of
// every step).
#pragma once

#include <cstdint>
#include <vector>

namespace mlspeed {

struct Generation {
  std::vector<int64_t> tokens;         // the new tokens only, prompt excluded
  std::vector<double> top2_margins;    // per new token: top-1 minus top-2 logit (float32)
  double first_token_ms = 0;           // prompt processing + first token (device-synchronised)
  double total_ms = 0;                 // the whole generation
};

class Generator {
 public:
  virtual ~Generator() = default;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t max_positions() const = 0;  // prompt + new tokens must fit
  // Greedy decoding of one sequence: argmax at every step, no sampling, no stop token.
  // Throws std::invalid_argument for an empty prompt, an id outside the vocabulary, or a
  // prompt + new_tokens longer than max_positions().
  virtual Generation greedy(const std::vector<int64_t>& prompt, int64_t new_tokens) = 0;
};

}  // namespace mlspeed
