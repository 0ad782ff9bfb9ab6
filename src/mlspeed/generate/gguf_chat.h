// A Llama chat model read from a GGUF file, for `mlspeed generate --model FILE.gguf`: the model and
// its vocabulary both come from the file (models/llama_gguf.h, models/llama_gguf_tokenizer.h);
// a prompt is the text as typed or wrapped in the chat template of the file's vocabulary (Llama 3's
// <|start_header_id|> turns when it has their tokens, else Llama-2-chat's [INST] ... [/INST] with
// an optional <<SYS>> block), tokenised as llama.cpp tokenises it; an answer is greedy, up to a
// number of tokens, ending where the model gives an end-of-generation token (EOS, Llama 3's
// <|eot_id|>: generate/stopping_greedy.h), and becomes a row with the prompt's and the
// generation's tokens/s.
#pragma once

#include <c10/core/Device.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlspeed/core/precision.h"
#include "mlspeed/generate/greedy_generation.h"
#include "mlspeed/generate/row_vocabulary.h"
#include "mlspeed/io/gguf.h"
#include "mlspeed/models/llama_gguf.h"
#include "mlspeed/models/llama_gguf_tokenizer.h"
#include "mlspeed/workloads/workload.h"

namespace mlspeed {

// The row's chat_template for Llama-2-chat's and Llama 3's.
inline constexpr const char* kLlama2ChatTemplate = "llama-2";
inline constexpr const char* kLlama3ChatTemplate = "llama-3";

struct ChatOptions {
  bool chat = false;   // wrap the text in the vocabulary's chat template
  std::string system;  // its system prompt; empty: none
};

class GgufChat {
 public:
  // Reads and checks the metadata, the tensor table and the tokenizer, not the weights:
  // InputFileError naming the file for one that is no Llama GGUF with a vocabulary mlspeed reads.
  explicit GgufChat(const std::string& path);
  GgufChat(const GgufChat&) = delete;
  GgufChat& operator=(const GgufChat&) = delete;

  const std::string& path() const { return path_; }
  const Workload& workload() const { return *workload_; }  // `run --model`'s workload of the file
  const llama::GgufModel& model() const { return model_; }
  int64_t max_positions() const { return model_.config.max_position_embeddings; }
  // Warnings every row of the file carries: its weights are random (written by `quantize random:`).
  std::vector<std::string> notes() const;

  GenerationPrompt prompt(const std::string& text, const ChatOptions& chat, int64_t question = 0,
                          int64_t repetition = 0) const;

  // Builds the model on `device` computing in `precision`, then generates 2 tokens after
  // `warm_up`, untimed (as llama-bench warms up), so that the first answer timed does not carry
  // the device's start-up (kernel loading, library handles, the allocator's first blocks). Throws
  // what Workload::open and the device throw.
  void open(const c10::Device& device, Precision precision, const GenerationPrompt& warm_up);
  // The greedy answer to `prompt` (prompt + max_new_tokens within max_positions()), up to
  // `max_new_tokens`, ending at an end-of-generation token; empty when `cancel` (may be null) was
  // set before it ended. Throws what the device throws.
  std::optional<GenerationRow> answer(const GenerationSetup& setup, const GenerationPrompt& prompt,
                                      int64_t max_new_tokens, const std::atomic<bool>* cancel);

 private:
  explicit GgufChat(const gguf::File& file);

  std::string path_;
  std::string name_;  // general.name
  llama::GgufModel model_;
  llama::GgufTokenizer tokenizer_;
  std::unique_ptr<RowVocabulary> vocabulary_;  // reads tokenizer_
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<Session> session_;
  std::optional<c10::Device> device_;
};

}  // namespace mlspeed
