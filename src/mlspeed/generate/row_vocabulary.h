// What a generation row needs from a tokenizer to show its ids as text and to warn about them:
// GPT-2's byte-level BPE (a folder given with --vocab) or the SentencePiece vocabulary of a Llama
// GGUF file behind one interface, so that a row is built the same way from either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlspeed/text/gpt2_bpe.h"

namespace mlspeed {

class RowVocabulary {
 public:
  virtual ~RowVocabulary() = default;
  // Where it was read, to begin a sentence: "the vocabulary in DIR", "the tokenizer of FILE".
  virtual const std::string& source() const = 0;
  virtual int64_t size() const = 0;
  virtual bool has_id(int64_t id) const = 0;
  // The text of `ids`, every one of which has_id.
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
};

// Keeps a reference: `bpe` must outlive it. (A GGUF file's vocabulary is generate/gguf_chat.h's.)
std::unique_ptr<RowVocabulary> gpt2_row_vocabulary(const text::Gpt2Bpe& bpe, const std::string& dir);

// The text of `ids`; an id the vocabulary lacks (a model with more ids than the vocabulary files)
// shows as [id N].
std::string decode_known(const RowVocabulary& vocabulary, const std::vector<int64_t>& ids);

}  // namespace mlspeed
