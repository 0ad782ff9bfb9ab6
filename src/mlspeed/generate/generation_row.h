// One greedy generation from a prompt (`mlspeed generate`, the `!!!!` check of the M3 Max review)
// as a row: what was asked, the tokens, the times, the warnings and the machine it ran on. Stored,
// printed, exported and imported like the other row types, from its field list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/device/device.h"
#include "mlspeed/device/host.h"
#include "mlspeed/results/field_list.h"
#include "mlspeed/results/result.h"

namespace mlspeed {

struct GenerationRow {
  int64_t run_id = 0;     // 0 until stored
  std::string timestamp;  // when it ran, ISO 8601 UTC
  std::string workload;   // "gpt2-generate"
  std::string size;
  std::string device;  // "cuda:0"
  Precision precision = Precision::fp32;
  int64_t seed = 0;     // of the random weights
  std::string weights;  // the .safetensors file; empty: random weights
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> new_ids;  // the generated ids, prompt excluded
  std::vector<double> top2_margins;  // per new token: top-1 minus top-2 logit
  std::string text;      // prompt and new tokens as text; empty without a vocabulary
  std::string new_text;  // the new tokens as text
  std::optional<double> first_token_ms;  // prompt processing and the first token
  std::optional<double> ms_per_token;    // each later token
  std::optional<double> total_ms;
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
  static std::string describe(const GenerationRow& g) {  // "gpt2-generate full cpu fp32"
    return g.workload + " " + g.size + " " + g.device + " " + std::string(name(g.precision));
  }
};

}  // namespace mlspeed
