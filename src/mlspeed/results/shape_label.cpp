#include "mlspeed/results/shape_label.h"

namespace mlspeed {
namespace {

// A generation workload's rows count tokens, run inference and either generate tokens or, with
// none to generate, are the prompt pass of one (llama-bench's pp); an inference row counting
// samples (BERT) or a training row over tokens (nanoGPT) has a plain sequence length.
bool is_generation_row(const Result& row) {
  return row.new_tokens > 0 || (row.job == Job::infer && row.item_unit == "tokens");
}

}  // namespace

std::string shape_label(const Result& row) {
  const std::string batch = "b" + std::to_string(row.batch);
  if (!is_generation_row(row)) return row.seq_len > 0 ? batch + " s" + std::to_string(row.seq_len) : batch;
  std::string test;
  if (row.seq_len > 0) test = "pp" + std::to_string(row.seq_len);
  if (row.new_tokens > 0) test += (test.empty() ? "" : "+") + std::string("tg") + std::to_string(row.new_tokens);
  if (row.depth > 0) test += " @ d" + std::to_string(row.depth);  // llama-bench's label
  return row.batch > 1 ? batch + " " + test : test;
}

}  // namespace mlspeed
