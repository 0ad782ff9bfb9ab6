#include "mlspeed/generate/gguf_chat.h"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "mlspeed/core/errors.h"
#include "mlspeed/core/text.h"
#include "mlspeed/generate/stopping_greedy.h"
#include "mlspeed/workloads/gguf_generate.h"
#include "mlspeed/workloads/llama2_generate.h"

namespace mlspeed {
namespace {

// The model's ids and the vocabulary's must be the same ids: an id past the embedding would be
// read out of bounds, and one the vocabulary lacks could not be shown.
llama::GgufTokenizer check_vocabulary_fits(const gguf::File& file, llama::GgufTokenizer tokenizer,
                                           const llama::GgufModel& model) {
  if (tokenizer.vocab_size() != model.config.vocab_size)
    throw InputFileError(file.path() + ": tokenizer.ggml.tokens has " + std::to_string(tokenizer.vocab_size()) +
                         " tokens but token_embd.weight has " + std::to_string(model.config.vocab_size) +
                         " rows; expected one row per token");
  return tokenizer;
}

// The file's vocabulary, either kind, as the rows show ids: SentencePiece's control tokens as
// nothing (as llama.cpp prints them), byte-level BPE's special tokens as their text.
class GgufRowVocabulary : public RowVocabulary {
 public:
  GgufRowVocabulary(const llama::GgufTokenizer& tokenizer, const std::string& file)
      : tokenizer_(tokenizer), source_("the tokenizer of " + file) {}
  const std::string& source() const override { return source_; }
  int64_t size() const override { return tokenizer_.vocab_size(); }
  bool has_id(int64_t id) const override { return id >= 0 && id < tokenizer_.vocab_size(); }
  std::string decode(const std::vector<int64_t>& ids) const override { return tokenizer_.decode(ids); }

 private:
  const llama::GgufTokenizer& tokenizer_;
  std::string source_;
};

}  // namespace

GgufChat::GgufChat(const std::string& path) : GgufChat(gguf::File(path)) {}

GgufChat::GgufChat(const gguf::File& file)
    : path_(file.path()),
      name_(file.find_string("general.name").value_or("")),
      model_(llama::describe_gguf(file)),
      tokenizer_(check_vocabulary_fits(file, llama::read_gguf_tokenizer(file), model_)),
      vocabulary_(std::make_unique<GgufRowVocabulary>(tokenizer_, path_)),
      workload_(make_gguf_generate(path_)) {}

std::vector<std::string> GgufChat::notes() const {
  // The name `mlspeed quantize random:SIZE` gives the files it writes (cli/quantize_command.cpp).
  if (name_.rfind("mlspeed random ", 0) != 0) return {};
  return {"the weights in " + path_ + " are random (general.name '" + excerpt(name_) +
          "', as `mlspeed quantize random:SIZE` writes), so the text is gibberish; use a real model's GGUF for "
          "real answers"};
}

GenerationPrompt GgufChat::prompt(const std::string& text, const ChatOptions& chat, int64_t question,
                                  int64_t repetition) const {
  GenerationPrompt p;
  p.text = text;
  p.question = question;
  p.repetition = repetition;
  if (!chat.chat) {
    p.ids = tokenizer_.encode(text);
    return p;
  }
  p.chat_template =
      tokenizer_.chat_template == llama::ChatTemplate::llama3 ? kLlama3ChatTemplate : kLlama2ChatTemplate;
  p.ids = tokenizer_.encode_chat(chat.system, text);
  return p;
}

void GgufChat::open(const c10::Device& device, Precision precision, const GenerationPrompt& warm_up) {
  session_ = workload_->open("full", device, precision, OpenOptions{});
  device_ = device;
  auto* session = dynamic_cast<llama::GenerateSession*>(session_.get());
  if (!session) throw std::logic_error("GgufChat: " + path_ + " did not open as a Llama generation session");
  const int64_t room = max_positions() - static_cast<int64_t>(warm_up.ids.size());
  if (room >= 1)
    greedy_until_end(session->llama_model(), device, warm_up.ids, std::min<int64_t>(2, room),
                     [](int64_t) { return false; }, nullptr);
}

std::optional<GenerationRow> GgufChat::answer(const GenerationSetup& setup, const GenerationPrompt& prompt,
                                              int64_t max_new_tokens, const std::atomic<bool>* cancel) {
  auto* session = dynamic_cast<llama::GenerateSession*>(session_.get());
  if (!session || !device_) throw std::logic_error("GgufChat::answer before open()");
  const StoppingGeneration g =
      greedy_until_end(session->llama_model(), *device_, prompt.ids, max_new_tokens,
                       [this](int64_t id) { return tokenizer_.ends_generation(id); }, cancel);
  if (g.cancelled) return std::nullopt;
  return finished_generation_row(setup, prompt, g.generation, g.ended_by_token, model_.config.vocab_size,
                                 vocabulary_.get());
}

}  // namespace mlspeed
